"""The course home page: one ``index.html`` per ``<tier>/<Lang>/<course>`` tree.

Students otherwise get a folder tree of ``NN Title.html`` files with no entry point. The
page lists the sections in spec order, each deck with one link per format and kind that
exists in that tree, and the dir-groups with their files. Which formats and kinds appear
is read from the output plan (the variants its notebooks have), so a new format needs no
change here. Links are relative, so the page works from ``file://``, a web server or a zip.

The page is built from the plan and the files present after the build, nothing else (no
clock, no absolute path): the same course and results give the same bytes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from html import escape
from pathlib import Path, PurePosixPath
from urllib.parse import quote

from clx.course.layout import KIND_DIR
from clx.course.outputs import HomePageOutput, NotebookOutput, OutputPlan
from clx.course.variants import Format, Kind, Variant, all_variants
from clx.problems import Category, Problem
from clx.store import atomic_write

_FORMAT_LABEL = {Format.HTML: "HTML", Format.NOTEBOOK: "Notebook", Format.CODE: "Code",
                 Format.SLIDES: "Slides"}
_WORDS = {
    "de": {
        "deck": "Foliensatz",
        "materials": "Materialien",
        "files": "Dateien",
        "course folder": "Kursordner",
        "no file": "keine Datei",
    },
    "en": {
        "deck": "Deck",
        "materials": "Materials",
        "files": "files",
        "course folder": "course folder",
        "no file": "no file",
    },
}

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 64rem;
       padding: 0 1rem; color: #1d2430; line-height: 1.45; }
h1 { margin-bottom: .25rem; }
.description { color: #4a5568; margin-top: 0; }
table { border-collapse: collapse; width: 100%; margin-bottom: 1.5rem; }
th, td { border-bottom: 1px solid #e2e8f0; padding: .3rem .5rem; text-align: left; }
thead th { background: #f7fafc; font-weight: 600; }
td.deck { width: 40%; }
td.none { color: #a0aec0; }
a { color: #2b6cb0; text-decoration: none; }
a:hover { text-decoration: underline; }
details { margin: .4rem 0; }
"""


def _variant_order(v: Variant) -> tuple:
    """Reference order of the variant table; formats it does not know go last, by name."""
    order = [(x.format, x.kind) for x in all_variants(slides=True) if x.lang == "de"]
    key = (v.format, v.kind)
    return (order.index(key), "", "") if key in order else (len(order), str(v.format), str(v.kind))


def _href(path: Path, base: Path) -> str:
    return "/".join(quote(part, safe="") for part in path.relative_to(base).parts)


def _format_label(fmt: Format) -> str:
    return _FORMAT_LABEL.get(fmt) or str(fmt).capitalize()


def _kind_label(kind: Kind) -> str:
    return KIND_DIR.get(kind) or str(kind).capitalize()


@dataclass
class _Tree:
    """What one tree's page shows, gathered from the plan before any HTML is written."""

    page: HomePageOutput
    base: Path
    columns: list[tuple[Format, Kind]] = field(default_factory=list)
    sections: list[tuple[str, list[NotebookOutput]]] = field(default_factory=list)


def _gather(plan: OutputPlan, page: HomePageOutput) -> _Tree:
    tree = _Tree(page, page.path.parent)
    variants: set[Variant] = set()
    by_section: dict[int, list[NotebookOutput]] = {}
    for nb in plan.notebooks:
        mine = [v for v in nb.paths if v.lang == page.lang and v.tier == page.tier]
        if mine:
            variants.update(mine)
            by_section.setdefault(nb.section_index, []).append(nb)
    columns = sorted(variants, key=_variant_order)
    tree.columns = list(dict.fromkeys((v.format, v.kind) for v in columns))
    for s_idx, section in enumerate(plan.course.spec.sections):
        decks = by_section.get(s_idx)
        if decks:
            tree.sections.append((section.name[page.lang], decks))
    return tree


def render_home_page(
    plan: OutputPlan, page: HomePageOutput, exists: Callable[[Path], bool] = Path.is_file
) -> bytes:
    """The page of one tree; a link only where ``exists`` says the file is there."""
    lang = page.lang
    words = _WORDS[lang]
    spec = plan.course.spec
    tree = _gather(plan, page)
    title = escape(spec.name[lang])
    out = [
        "<!DOCTYPE html>",
        f'<html lang="{lang}">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{title}</title>",
        f"<style>{_STYLE}</style>",
        "</head>",
        "<body>",
        "<header>",
        f"<h1>{title}</h1>",
    ]
    if spec.description[lang]:
        out.append(f'<p class="description">{escape(spec.description[lang])}</p>')
    out += ["</header>", "<main>"]
    for name, decks in tree.sections:
        out += [
            f"<section><h2>{escape(name)}</h2>",
            *_deck_table(tree, decks, lang, exists),
            "</section>",
        ]
    groups = list(_dir_groups(plan, page, exists))
    if groups:
        out += [f"<section><h2>{words['materials']}</h2>", *groups, "</section>"]
    out += ["</main>", "</body>", "</html>", ""]
    return "\n".join(out).encode("utf-8")


def _deck_table(
    tree: _Tree, decks: list[NotebookOutput], lang: str, exists: Callable[[Path], bool]
) -> list[str]:
    words = _WORDS[lang]
    kinds = list(dict.fromkeys(k for _f, k in tree.columns))
    head1 = [f'<th rowspan="2">{words["deck"]}</th>'] + [
        f'<th colspan="{sum(1 for _f, k2 in tree.columns if k2 is k)}">'
        f"{escape(_kind_label(k))}</th>"
        for k in kinds
    ]
    ordered = [(f, k) for k in kinds for f, k2 in tree.columns if k2 is k]
    head2 = [f"<th>{escape(_format_label(f))}</th>" for f, _k in ordered]
    rows = [
        "<table>",
        "<thead>",
        f"<tr>{''.join(head1)}</tr>",
        f"<tr>{''.join(head2)}</tr>",
        "</thead>",
        "<tbody>",
    ]
    for nb in decks:
        cells = [f'<td class="deck">{escape(nb.shown_title(lang))}</td>']
        for fmt, kind in ordered:
            path = nb.paths.get(Variant(lang, fmt, kind))
            if path is not None and exists(path):
                label = escape(_format_label(fmt))
                cells.append(f'<td><a href="{_href(path, tree.base)}">{label}</a></td>')
            else:
                cells.append(f'<td class="none" title="{words["no file"]}">–</td>')
        rows.append(f"<tr>{''.join(cells)}</tr>")
    rows += ["</tbody>", "</table>"]
    return rows


def _dir_groups(
    plan: OutputPlan, page: HomePageOutput, exists: Callable[[Path], bool]
) -> Iterable[str]:
    """Each dir-group of this tree with links to its files (folders need no server index)."""
    words = _WORDS[page.lang]
    base = page.path.parent
    copies = [c for c in plan.copies if c.origin == "dir-group" and exists(c.target)]
    if not copies:
        return
    for group in plan.course.spec.dir_groups:
        folder = plan.layout.dir_group_dir(page.lang, group.name)
        if folder != base and base not in folder.parents:
            continue  # dir-groups live in the public trees only
        # A group's files: copied from its folder into its target (a group without a
        # name targets the course folder, above every named group's target).
        source = PurePosixPath(group.path)
        files = sorted(
            c.target
            for c in copies
            if folder in c.target.parents
            and c.target != page.path
            and source in PurePosixPath(c.source_rel).parents
        )
        if not files:
            continue
        name = group.name[page.lang] or words["course folder"]
        items = "".join(
            f'<li><a href="{_href(f, base)}">{escape(f.relative_to(folder).as_posix())}</a></li>'
            for f in files
        )
        yield (
            f"<details><summary>{escape(name)} ({len(files)} {words['files']})</summary>"
            f"<ul>{items}</ul></details>"
        )


def write_home_pages(plan: OutputPlan, contents: OutputPlan) -> list[Problem]:
    """Write the home pages ``plan`` owns, listing what ``contents`` plans and exists.

    A focused build passes the full course plan as ``contents``, so its pages still list
    every deck built before, not only the focused part. Returns write failures.
    """
    problems = []
    for page in plan.home_pages:
        data = render_home_page(contents, page)
        try:
            atomic_write(page.path, data)
        except OSError as e:
            problems.append(
                Problem(
                    f"writing the course home page failed: {e.strerror or e}",
                    file=plan.course.spec.file,
                    target=plan.layout.relative(page.path),
                    category=Category.INFRASTRUCTURE,
                )
            )
    return problems
