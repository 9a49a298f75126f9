"""Each problem once: the entries the build report lists, whatever printed them.

Jobs report per (notebook, language), the engine per variant group, a course template
fails in every deck that uses it, and a failed job hands back its warnings twice (with
its result and with its error). The report must show one entry per source location and
message, listing every variant (and, for a shared template, every notebook) affected.
Text and JSON are both rendered from this grouping, so their counts agree.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace

from clx.course.variants import LANGS, all_variants, variants_for
from clx.problems import Category, Problem

_RANK = {v.label: i for i, v in enumerate(all_variants(slides=True))}
# A build with decks has two more variants per language; either set is "all".
_ALL = (frozenset(v.label for v in all_variants(slides=True)),
        frozenset(v.label for v in all_variants()))
_PER_LANG = [(lang, frozenset(v.label for v in variants_for(lang, slides=slides)))
             for slides in (True, False) for lang in LANGS]

GroupKey = tuple[object, ...]


def _key(p: Problem) -> GroupKey:
    return (p.severity, p.category, p.file, p.line, p.target, p.message)


def _ordered(labels: Iterable[str]) -> tuple[str, ...]:
    return tuple(sorted(set(labels), key=lambda label: (_RANK.get(label, len(_RANK)), label)))


def group(problems: Sequence[Problem]) -> list[Problem]:
    """One Problem per (severity, category, file, line, target, message), in first-seen
    order, with the union of variants and sources; the first detail is kept."""
    merged: dict[GroupKey, Problem] = {}
    for p in problems:
        k = _key(p)
        seen = merged.get(k)
        if seen is None:
            merged[k] = replace(
                p, variants=_ordered(p.variants), sources=tuple(sorted(set(p.sources)))
            )
        else:
            merged[k] = replace(
                seen,
                variants=_ordered((*seen.variants, *p.variants)),
                sources=tuple(sorted(set(seen.sources) | set(p.sources))),
                detail=seen.detail or p.detail,
            )
    return list(merged.values())


def collapse_configuration(problems: Sequence[Problem]) -> list[Problem]:
    """One entry per configuration message, naming how many sources it hit.

    A missing tool fails every job that needs it with the same message; listing it once
    per notebook would bury the one thing the user has to do (install the tool).
    """
    groups: dict[str, list[Problem]] = {}
    order: list[Problem | str] = []
    for p in problems:
        if p.is_error and p.category is Category.CONFIGURATION:
            if p.message not in groups:
                groups[p.message] = []
                order.append(p.message)
            groups[p.message].append(p)
        else:
            order.append(p)
    result = []
    for item in order:
        if isinstance(item, Problem):
            result.append(item)
            continue
        group_ = groups[item]
        if len(group_) == 1:  # nothing to collapse: keep its location
            result.append(group_[0])
            continue
        files = sorted({g.file for g in group_ if g.file} | {s for g in group_ for s in g.sources})
        shown = ", ".join(files[:3]) + (f" and {len(files) - 3} more" if len(files) > 3 else "")
        result.append(
            replace(
                group_[0],
                file=None,
                line=None,
                variants=(),
                target=None,
                sources=(),
                message=item + (f" (affects {len(files)} source(s): {shown})" if files else ""),
            )
        )
    return result


def errors_of(problems: Sequence[Problem]) -> list[Problem]:
    """The report's error entries."""
    return collapse_configuration(group(problems))


def variants_text(variants: Sequence[str]) -> tuple[str, ...]:
    """Variants for a text line: "all variants", or one language's seven as ``de/*``."""
    labels = set(variants)
    if labels in _ALL:
        return ("all variants",)
    out: list[str] = []
    for lang, full in _PER_LANG:
        if full <= labels and f"{lang}/*" not in out:
            out.append(f"{lang}/*")
            labels -= full
    return (*out, *_ordered(labels))
