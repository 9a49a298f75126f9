"""Names that become file and folder names: sanitising and header titles
(docs/course-reference.md#titles-and-file-names)."""

from __future__ import annotations

import re

_TRANSLATE = str.maketrans(
    {
        "{": "(", "[": "(", "}": ")", "]": ")",
        **{c: "_" for c in "/\\$#%&<>*=^€|"},
        **{c: None for c in ";!?\"'`.:"},
    }
)


def sanitize(text: str) -> str:
    """Make a title, course or section name safe as one path component."""
    return text.replace("C#", "CSharp").strip().translate(_TRANSLATE)


# The first header(...) call inside {{ … }} whose two arguments are string literals. The
# second argument may follow on the next line, after the comma.
_STR = r"""(?:"((?:[^"\\\n]|\\.)*)"|'((?:[^'\\\n]|\\.)*)')"""
_HEADER = re.compile(r"\{\{-?\s*header\(\s*" + _STR + r"\s*,[ \t]*\n?[ \t]*" + _STR + r"\s*\)")
_HEADER_ANY = re.compile(r"\{\{-?\s*header\(")


def _unescape(s: str) -> str:
    return re.sub(r"\\(.)", r"\1", s)


def header_titles(raw_source: str, stem: str) -> tuple[dict[str, str], str | None]:
    """Titles per language from the first header call, and a warning text if we fell back.

    Without any header call both titles are the stem, silently (documented as such).
    """
    fallback = {"de": stem, "en": stem}
    first_any = _HEADER_ANY.search(raw_source)
    if first_any is None:
        return fallback, None
    m = _HEADER.search(raw_source)
    if m is None or m.start() != first_any.start():
        return fallback, (
            "header title not parseable (arguments are not string literals); using the file stem"
        )
    de = _unescape(m.group(1) if m.group(1) is not None else m.group(2))
    en = _unescape(m.group(3) if m.group(3) is not None else m.group(4))
    titles = {"de": sanitize(de), "en": sanitize(en)}
    empty = [lang for lang, t in titles.items() if not t]
    if empty:
        for lang in empty:
            titles[lang] = stem
        langs = ", ".join(empty)
        return titles, f"header title empty after sanitising ({langs}); using the file stem"
    return titles, None


def shown_titles(raw_source: str, titles: dict[str, str]) -> dict[str, str]:
    """The header's titles as the author wrote them (``C#``, ``?``, quotes), for pages
    that show a title rather than name a file; ``titles`` (the sanitised ones) where
    the header gives none."""
    m = _HEADER.search(raw_source)
    first_any = _HEADER_ANY.search(raw_source)
    if m is None or first_any is None or m.start() != first_any.start():
        return dict(titles)
    raw = {"de": m.group(1) if m.group(1) is not None else m.group(2),
           "en": m.group(3) if m.group(3) is not None else m.group(4)}
    return {lang: " ".join(_unescape(raw[lang]).split()) or titles[lang] for lang in titles}


def header_line(raw_source: str) -> int | None:
    """1-based line of the first header call, for warnings."""
    m = _HEADER_ANY.search(raw_source)
    return raw_source.count("\n", 0, m.start()) + 1 if m else None
