"""The project cites only itself: no path to the design folder beside the checkout (users'
clones do not have it), and every `docs/<page>.md#<anchor>` cited from code, tests, examples
or the docs names a page and a heading that exist."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCANNED = ["src", "tests", "examples", "bench", "scripts", "docs", ".ci"]
SCANNED += ["README.md", "Makefile", "pyproject.toml", "mkdocs.yml"]
SUFFIXES = {".py", ".md", ".j2", ".xml", ".toml", ".sh", ".json", ".yml", ""}
# Spelled in pieces so that this file does not match itself.
OUTSIDE = ["../" + "shared", "/work/" + "shared", "course-" + "format.md", "toolchain" + ".md"]
_CITE = re.compile(r"(?:docs/|\.\./\.\./docs/|\]\()([\w-]+)\.md#([\w-]+)")


def _files() -> list[Path]:
    out = []
    for name in SCANNED:
        top = ROOT / name
        paths = [top] if top.is_file() else sorted(top.rglob("*"))
        out += [p for p in paths if p.is_file() and p.suffix in SUFFIXES and ".clx" not in p.parts]
    return out


def _slug(heading: str) -> str:
    """The anchor Python-Markdown's toc (and GitHub, for these headings) gives a heading."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading).replace("`", "")
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    text = re.sub(r"[^\w\s-]", "", text).strip().lower()
    return re.sub(r"[-\s]+", "-", text)


def _anchors(page: Path) -> set[str]:
    text = re.sub(r"^```.*?^```", "", page.read_text(encoding="utf-8"), flags=re.M | re.S)
    return {_slug(m[1]) for m in re.finditer(r"^#{1,6} (.+)$", text, re.M)}


def test_nothing_points_outside_the_repository() -> None:
    found = [
        f"{p.relative_to(ROOT)}:{n}: {line.strip()}"
        for p in _files()
        for n, line in enumerate(p.read_text(encoding="utf-8", errors="replace").splitlines(), 1)
        if any(o in line for o in OUTSIDE)
    ]
    assert not found, "cite the project's own docs/ pages instead:\n" + "\n".join(found)


def test_cited_doc_anchors_exist() -> None:
    pages = {p.stem: _anchors(p) for p in (ROOT / "docs").glob("*.md")}
    bad = []
    for p in _files():
        text = p.read_text(encoding="utf-8", errors="replace")
        for m in _CITE.finditer(text):
            page, anchor = m[1], m[2]
            if page not in pages or anchor not in pages[page]:
                bad.append(f"{p.relative_to(ROOT)}: {page}.md#{anchor}")
    assert not bad, "citations of pages or headings that do not exist:\n" + "\n".join(bad)
    assert "the-header-macro" in pages["course-reference"]  # the slug rule itself works


def test_relative_links_outside_docs_resolve() -> None:
    """README files are read on GitHub, where mkdocs' strict check does not reach."""
    link = re.compile(r"\]\(([^)\s]+)\)")
    bad = []
    for md in [ROOT / "README.md", *sorted((ROOT / "examples").rglob("*.md"))]:
        for target in link.findall(md.read_text(encoding="utf-8")):
            if re.match(r"[a-z][a-z0-9+.-]*:|#", target):
                continue  # a URL or an anchor on the same page
            path = target.split("#", 1)[0]
            if not (md.parent / path).exists():
                bad.append(f"{md.relative_to(ROOT)}: {target}")
    assert not bad, "links to files that do not exist:\n" + "\n".join(bad)
