"""Decks end to end: the demo course's slide structure, assets once per output tree, and
a speaker deck driven in Chromium from file:// with the network out of reach."""

from __future__ import annotations

import io
import shutil
from pathlib import Path
from urllib.parse import unquote

import pytest
from bs4 import BeautifulSoup
from PIL import Image
from playwright.sync_api import sync_playwright

from clx.course.course import load_course
from clx.course.outputs import plan_outputs
from clx.course.variants import Format
from clx.diagrams.drawio_page import CHROMIUM_FLAGS
from clx.pipeline.assets import BUNDLES, asset_copies, package_dir
from clx.pipeline.progress import SilentProgress
from clx.pipeline.run import BuildOptions, build
from clxtest import write_tree

CHROMIUM = "/usr/bin/chromium"
DEMO = Path(__file__).resolve().parents[2] / "examples" / "demo-course"

# The demo decks in English, speaker target: per horizontal slide, the first heading of
# each vertical slide, else its first words ("+notes" where the slide has speaker notes).
DEMO_DECKS = {
    "Outlook Java and TypeScript/01 Records and Interfaces in Java.html": [
        ["Records and Interfaces in …"],
        [
            "A record bundles values",
            "The value of the …",
            "Interfaces",
            "The fields of a …",
            "Exercise",
        ],
    ],
    "Outlook Java and TypeScript/02 Types in TypeScript.html": [
        ["Types in TypeScript Ada …"],
        [
            "Interfaces describe the shape of objects",
            "The value of the …",
            "A record type",
            "Deno does not type-check …",
            "Exercise",
        ],
    ],
    "Review/01 Loops (for_while).html": [
        ["Loops (for/while) Ada Lovelace …"],
        ["Repeating with for", "Repeating with while", "Helpers from loop_tools +notes"],
    ],
    "Week 1 Basics/01 Introduction Python 3 for CSharp Developers.html": [
        ["Introduction: Python 3 for …", "What is this about?"],
        ["From source code to output +notes"],
        ["The first program +notes", "Numbers and variables", "Our mascot"],
    ],
    "Week 1 Basics/02 Lists (Part 1) Pythons Workhorse.html": [
        ["Lists [Part 1]: Python's …"],
        ["Creating lists", "Access by index", "Appending elements +notes"],
    ],
    "Week 1 Basics/03 Lists (Part 2) Slicing _ Copies.html": [
        ["Lists [Part 2]: Slicing …"],
        ["Slicing", "Two names, one list", "Copies +notes"],
    ],
    "Week 1 Basics/04 Loops (for_while).html": [
        ["Loops (for/while) Ada Lovelace …"],
        ["Repeating with for", "Repeating with while", "Helpers from loop_tools +notes"],
    ],
    "Week 2 Functions_Files/01 Functions Parameters and Return Values.html": [
        ["Functions: Parameters and Return …"],
        ["Defining functions", "Default values", "Placeholders in text +notes"],
    ],
    "Week 2 Functions_Files/02 Input_Output with Files (eg CSV).html": [
        ["Input/Output with Files (e.g. …"],
        [
            "Reading files",
            "CSV with the csv module",
            "Computing the average",
            "Writing files +notes",
        ],
    ],
}


def outline_of(deck: Path, *, notes: bool = True) -> list[list[str]]:
    soup = BeautifulSoup(deck.read_text(encoding="utf-8"), "html.parser")
    stacks = []
    for top in soup.select("div.slides > section"):
        row = []
        for s in top.find_all("section", recursive=False) or [top]:
            heading = s.find(["h1", "h2", "h3"])
            if heading is not None:
                text = heading.get_text(" ", strip=True)
            else:  # title slides and slides without a heading: their first words
                text = " ".join(s.get_text(" ").split()[:4]) + " …"
            row.append(text + (" +notes" if notes and s.select("aside.notes") else ""))
        stacks.append(row)
    return stacks


@pytest.fixture(scope="module")
def demo_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo course built with decks added to its formats (a complete build)."""
    root = tmp_path_factory.mktemp("demo") / "demo-course"
    shutil.copytree(DEMO, root, ignore=shutil.ignore_patterns(".clx", "output"))
    out = root / "output"
    report = build(
        BuildOptions(
            spec=root / "course-specs" / "demo.xml",
            output_root=out,
            progress=SilentProgress(),
            output_formats=("html", "notebook", "code", "slides"),
        )
    )
    assert report.ok, report.render_text()
    return out


def slides_dir(out: Path, tier: str, lang: str = "En", course: str = "Python Basics") -> Path:
    kind = "Speaker" if tier == "speaker" else "Completed"
    folder = "Slides" if lang == "En" else "Folien"
    return out / tier / lang / course / folder / "Slides" / kind


def test_demo_decks_have_the_slides_their_tags_say(demo_out: Path) -> None:
    speaker, public = slides_dir(demo_out, "speaker"), slides_dir(demo_out, "public")
    assert {p.relative_to(speaker).as_posix() for p in speaker.rglob("*.html")} == set(DEMO_DECKS)
    for name, expected in DEMO_DECKS.items():
        assert outline_of(speaker / name) == expected, name
        # the completed deck: same slides, no notes; the German deck: same shape
        without = [[t.removesuffix(" +notes") for t in row] for row in expected]
        assert outline_of(public / name) == without, name
        assert "aside" not in (public / name).read_text(encoding="utf-8")
    german = slides_dir(demo_out, "speaker", "De", "Python Grundlagen")
    shapes = sorted(sorted(len(r) for r in outline_of(p)) for p in german.rglob("*.html"))
    assert shapes == sorted(sorted(len(r) for r in rows) for rows in DEMO_DECKS.values())
    # the home page of each tree links its decks
    for tier, folder in (("speaker", speaker), ("public", public)):
        home = demo_out / tier / "En" / "Python Basics" / "index.html"
        soup = BeautifulSoup(home.read_text(encoding="utf-8"), "html.parser")
        linked = {(home.parent / unquote(a["href"])).resolve() for a in soup.select("a[href]")}
        assert {(folder / name).resolve() for name in DEMO_DECKS} <= linked, tier
    # no code-along decks, and the HTML pages are where they always were
    assert not list(demo_out.rglob("Slides/Slides/Code-Along"))
    assert list(demo_out.glob("public/En/Python Basics/Slides/Html/Completed/*/*.html"))


def test_assets_are_copied_once_per_tree_and_every_link_resolves(demo_out: Path) -> None:
    trees = sorted(p.parent for p in demo_out.glob("*/*/*/clx-assets"))
    assert [t.relative_to(demo_out).as_posix() for t in trees] == [
        "public/De/Python Grundlagen",
        "public/En/Python Basics",
        "speaker/De/Python Grundlagen",
        "speaker/En/Python Basics",
    ]
    reveal = package_dir(BUNDLES["reveal.js"]) / "dist" / "reveal.js"
    for tree in trees:
        assert (tree / "clx-assets/reveal.js/reveal.js").read_bytes() == reveal.read_bytes()
        assert list((tree / "clx-assets/mathjax/output/chtml/fonts/woff-v2").glob("*.woff"))
    for deck in demo_out.rglob("Slides/Slides/*/*/*.html"):
        soup = BeautifulSoup(deck.read_text(encoding="utf-8"), "html.parser")
        for tag in soup.select("script[src], link[href], img[src]"):
            url = tag.get("src") or tag.get("href")
            if url.startswith("data:"):
                continue
            assert (deck.parent / url).resolve().is_file(), (deck, url)


def test_default_builds_plan_no_decks(tmp_path: Path) -> None:
    course = load_course(DEMO / "course-specs" / "demo.xml", output_root=tmp_path / "out")
    plan = plan_outputs(course)
    assert not any(v.format is Format.SLIDES for nb in plan.notebooks for v in nb.paths)
    copies = asset_copies(plan)
    assert copies and not any("/clx-assets/reveal.js/" in c.target.as_posix() for c in copies)
    only = plan_outputs(course, formats=(Format.HTML,))
    assert {v.format for nb in only.notebooks for v in nb.paths} == {Format.HTML}


# --- in the browser ------------------------------------------------------------------------

SPEC = """<course>
  <name><de>Kurs</de><en>Course</en></name>
  <prog-lang>python</prog-lang>
  <sections><section><name><de>Teil</de><en>Part</en></name>
    <topics><topic>deck</topic></topics></section></sections>
</course>
"""
LONG = "\n".join(f"- item {i}" for i in range(60))
DECK = f"""# j2 from 'macros.j2' import header
# {{{{ header("Folien", "Deck") }}}}

# %% [markdown] tags=["slide"]
## Math
$e^{{i\\pi}} + 1 = 0$

# %% [markdown] tags=["notes"]
clx-note-alpha: mention Euler.

# %% [markdown] tags=["subslide"]
## A long list
{LONG}

# %% [markdown] tags=["slide"]
## A picture
![pixel](img/pixel.png)

# %%
print("clx-output-" * 2)

# %% [markdown] tags=["notes"]
clx-note-beta
"""


def png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(buf, format="PNG")
    return buf.getvalue()


def test_speaker_deck_in_chromium_from_file_with_the_network_cut(tmp_path: Path) -> None:
    root = tmp_path / "course"
    write_tree(
        root,
        {
            "course-specs/c.xml": SPEC,
            "slides/m_1/topic_100_deck/slides_deck.py": DECK,
            "slides/m_1/topic_100_deck/img/pixel.png": png(),
        },
    )
    report = build(
        BuildOptions(
            spec=root / "course-specs" / "c.xml",
            progress=SilentProgress(),
            notebook_workers=1,
            langs=("en",),
            formats=("slides",),
        )
    )
    assert report.ok, report.render_text()
    out = root / "output"
    deck = out / "speaker/En/Course/Slides/Slides/Speaker/Part/01 Deck.html"
    assert deck.is_file()
    home = out / "speaker/En/Course/index.html"  # a focused build's home page links it too
    assert 'href="Slides/Slides/Speaker/Part/01%20Deck.html"' in home.read_text(encoding="utf-8")

    outside: list[str] = []
    failed: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=list(CHROMIUM_FLAGS))
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 800})
            page = context.new_page()

            def guard(route) -> None:  # anything but a file of the output tree is refused
                url = route.request.url
                if url.startswith(out.resolve().as_uri() + "/") or url.startswith("data:"):
                    route.continue_()
                else:
                    outside.append(url)
                    route.abort()

            context.route("**/*", guard)  # the page and the speaker view it opens
            context.on("requestfailed", lambda r: failed.append(r.url))
            page.goto(deck.as_uri())
            page.wait_for_function("window.Reveal && Reveal.isReady()")
            assert page.evaluate("Reveal.getIndices()") == {"h": 0, "v": 0, "f": None}

            seen = {}
            for key, where in (
                ("ArrowRight", (1, 0)),
                ("ArrowDown", (1, 1)),
                ("ArrowRight", (2, 0)),
            ):
                page.keyboard.press(key)
                page.wait_for_function(
                    f"Reveal.getIndices().h === {where[0]} && Reveal.getIndices().v === {where[1]}"
                )
                seen[where] = page.evaluate("Reveal.getSlideNotes() || ''")
            assert "clx-note-alpha" in seen[(1, 0)]
            assert seen[(1, 1)] == ""
            assert "clx-note-beta" in seen[(2, 0)]
            notes = page.evaluate("Reveal.getSlides().map(s => Reveal.getSlideNotes(s) || '')")
            assert sum("clx-note" in n for n in notes) == 2

            # reveal.js's speaker view (key S) shows the current slide's notes
            with context.expect_page() as opened:
                page.keyboard.press("s")
            speaker_view = opened.value
            speaker_view.wait_for_function(
                "document.body && document.body.innerText.includes('clx-note-beta')"
            )

            # math typeset by the shipped MathJax, the image loaded, the output shown
            page.wait_for_selector("mjx-container", state="attached")
            assert page.evaluate("document.querySelector('img[alt=pixel]').naturalWidth") == 8
            assert "clx-output-clx-output-" in page.inner_text(".slides")
            # the long slide scrolls instead of being cut
            long_slide = "document.querySelectorAll('section.stack > section')[1]"
            assert page.evaluate(f"getComputedStyle({long_slide}).overflowY") == "auto"
            assert page.evaluate(f"{long_slide}.scrollHeight > {long_slide}.clientHeight")
        finally:
            browser.close()
    assert outside == []
    assert failed == []
