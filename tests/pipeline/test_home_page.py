"""The course home page: written by every build, every link a real file, same bytes again."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest
from playwright.sync_api import expect, sync_playwright

from clx.course.course import load_course
from clx.course.outputs import Focus, plan_outputs
from clx.diagrams.drawio_page import CHROMIUM_FLAGS
from clx.pipeline.homepage import render_home_page
from clx.pipeline.manifest import read_manifest
from clx.pipeline.progress import SilentProgress
from clx.pipeline.run import BuildOptions, build
from clxtest import notebook, write_tree

SPEC = """<course>
  <name><de>Kurs Eins</de><en>Course One</en></name>
  <prog-lang>python</prog-lang>
  <description><de>Eine &lt;b&gt;Beschreibung&lt;/b&gt; &amp; mehr.</de><en>A description.</en></description>
  <sections>
    <section><name><de>Teil Eins</de><en>Part One</en></name>
      <topics><topic>alpha</topic><topic>bad</topic></topics></section>
    <section><name><de>Teil Zwei</de><en>Part Two</en></name>
      <topics><topic html="false">beta</topic></topics></section>
  </sections>
  <dir-groups>
    <dir-group><name><de>Beispiele</de><en>Examples</en></name><path>code</path></dir-group>
    <dir-group><name/><path>handouts</path></dir-group>
  </dir-groups>
</course>
"""


def make(root: Path) -> Path:
    write_tree(
        root,
        {
            "course-specs/c.xml": SPEC,
            "slides/m_1/topic_100_alpha/slides_alpha.py": notebook("Älpha", "Alpha", "print(1)"),
            "slides/m_1/topic_150_bad/slides_bad.py": notebook("Kaputt", "Broken", "1 / 0"),
            "slides/m_1/topic_200_beta/slides_beta.py": notebook("Beta", "Beta", "print(2)"),
            "code/example one.py": "print('example')\n",
            "code/sub/more.txt": "more\n",
            "handouts/sheet.txt": "sheet\n",
        },
    )
    return root / "course-specs" / "c.xml"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("home") / "course"
    spec = make(root)
    report = build(BuildOptions(spec=spec, notebook_workers=1, progress=SilentProgress()))
    assert not report.ok and any("ZeroDivisionError" in e.message for e in report.errors)
    return root


def page(root: Path, tier: str = "public", lang: str = "en") -> Path:
    name = {"de": "Kurs Eins", "en": "Course One"}[lang]
    return root / "output" / tier / lang.capitalize() / name / "index.html"


def test_every_tree_has_a_home_page_owned_by_the_manifest(built: Path) -> None:
    out = built / "output"
    owned = set().union(*read_manifest(out / ".clx-manifest.json").values())
    for tier in ("public", "speaker"):
        for lang in ("de", "en"):
            p = page(built, tier, lang)
            assert p.is_file()
            assert p.relative_to(out).as_posix() in owned
    de = page(built, "public", "de").read_text(encoding="utf-8")
    assert "<h1>Kurs Eins</h1>" in de
    assert "Eine &lt;b&gt;Beschreibung&lt;/b&gt; &amp; mehr." in de
    assert de.index("Teil Eins") < de.index("Teil Zwei")
    assert "01 Älpha" in de and "Beispiele" in de and "Kursordner" in de
    speaker = page(built, "speaker", "en").read_text(encoding="utf-8")
    assert "Speaker" in speaker and "Code-Along" not in speaker and "Examples" not in speaker


def test_links_resolve_in_chromium_from_file_urls(built: Path) -> None:
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path="/usr/bin/chromium", headless=True, args=list(CHROMIUM_FLAGS)
        )
        try:
            tab = browser.new_page()
            for tier in ("public", "speaker"):
                home = page(built, tier)
                tab.goto(home.as_uri())
                hrefs = tab.eval_on_selector_all("a", "els => els.map(e => e.href)")
                texts = tab.eval_on_selector_all("a", "els => els.map(e => e.textContent)")
                assert hrefs, f"no links on {home}"
                for href in hrefs:
                    url = urlparse(href)
                    assert url.scheme == "file"
                    target = Path(unquote(url.path))
                    assert target.is_file(), href
                    assert home.parent in target.parents  # never outside its own tree
                if tier == "public":
                    assert {
                        "HTML",
                        "Notebook",
                        "Code",
                        "example one.py",
                        "sub/more.txt",
                        "sheet.txt",
                    } <= set(texts)
                    # the failing deck has no executed HTML: no link, but its other formats
                    row = tab.locator("tr", has_text="02 Broken").inner_text()
                    assert "Notebook" in row and "–" in row
                    beta = tab.locator("tr", has_text="01 Beta").inner_text()
                    assert "HTML" not in beta and "Notebook" in beta
            first = tab.locator("a", has_text="HTML").first
            first.click()
            expect(tab).to_have_title("01 Alpha")  # waits for the page to load
        finally:
            browser.close()


def test_a_rebuild_writes_the_same_bytes(built: Path) -> None:
    before = {p: p.read_bytes() for p in (built / "output").rglob("index.html")}
    build(BuildOptions(spec=built / "course-specs/c.xml", progress=SilentProgress()))
    after = {p: p.read_bytes() for p in (built / "output").rglob("index.html")}
    assert before == after and len(before) == 4


def test_focused_plan_pages_list_the_whole_course(tmp_path: Path) -> None:
    spec = make(tmp_path / "course")
    course = load_course(spec)
    full = plan_outputs(course)
    focused = plan_outputs(course, Focus(langs=frozenset({"en"}), sections=frozenset({"2"})))
    assert [(h.tier, h.lang) for h in focused.home_pages] == [("public", "en"), ("speaker", "en")]
    html = render_home_page(full, focused.home_pages[0], lambda p: True).decode()
    assert "01 Alpha" in html and "01 Beta" in html


def test_columns_come_from_the_plan(tmp_path: Path) -> None:
    """A format or kind the plan does not have gets no column (decks of a new format
    appear once the plan has them, without a change to the page)."""
    spec = make(tmp_path / "course")
    course = load_course(spec)
    plan = plan_outputs(course, Focus(formats=frozenset({"notebook"})))
    html = render_home_page(plan, plan.home_pages[0], lambda p: True).decode()
    assert "<th>Notebook</th>" in html and "<th>HTML</th>" not in html


def test_an_authors_index_html_wins_with_a_warning(tmp_path: Path) -> None:
    spec = make(tmp_path / "course")
    write_tree(tmp_path / "course", {"handouts/index.html": "<p>mine</p>"})
    plan = plan_outputs(load_course(spec))
    assert len(plan.home_pages) == 2  # the public trees keep the author's file
    assert any("replaces the course home page" in w.message for w in plan.warnings)


def test_each_dir_group_lists_its_own_files_once(tmp_path: Path) -> None:
    """The course-folder group (no name) sits above the named ones: it lists only its
    own files, not those of every group below it too."""
    spec = make(tmp_path / "course")
    plan = plan_outputs(load_course(spec))
    public_en = next(h for h in plan.home_pages if (h.tier, h.lang) == ("public", "en"))
    html = render_home_page(plan, public_en, lambda p: True).decode()
    assert "<summary>course folder (1 files)</summary>" in html
    assert "<summary>Examples (2 files)</summary>" in html
    assert html.count("example one.py</a>") == 1


def test_decks_are_listed_by_the_titles_their_authors_wrote(tmp_path: Path) -> None:
    # File names need sanitised titles ("CSharp", no "?"); the page shows the header's.
    spec = make(tmp_path / "course")
    deck = tmp_path / "course/slides/m_1/topic_100_alpha/slides_alpha.py"
    deck.write_text(notebook("Was ist C#?", "What is C#? <Intro>", "print(1)"))
    plan = plan_outputs(load_course(spec))
    [nb] = [n for n in plan.notebooks if n.file.path == deck]
    assert nb.page_title("en") == "01 What is CSharp _Intro_"  # the file's name
    [en] = [h for h in plan.home_pages if (h.tier, h.lang) == ("public", "en")]
    html = render_home_page(plan, en, lambda p: True).decode()
    assert '<td class="deck">01 What is C#? &lt;Intro&gt;</td>' in html
    assert "What%20is%20CSharp%20_Intro_.html" in html  # the links go to the files
