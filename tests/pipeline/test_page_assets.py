"""Executed HTML pages work offline: MathJax, require.js and jQuery come from the output
tree's own clx-assets folder, copied once per tree and linked relatively. Checked in the
real Chromium from file:// with every non-file request refused and recorded."""

from __future__ import annotations

import shutil
from pathlib import Path

from clx.course.layout import ASSETS_DIR
from clx.course.variants import Format
from clx.diagrams.drawio_page import CHROMIUM_FLAGS
from clx.pipeline.assets import NEEDS
from clx.pipeline.progress import SilentProgress
from clx.pipeline.run import BuildOptions, build
from clxtest import TWO_TOPICS_SPEC, write_tree

MATH = (
    '# j2 from \'macros.j2\' import header\n# {{ header("Mathe", "Math") }}\n\n'
    "# %% [markdown]\n# Euler: $e^{i\\pi} + 1 = 0$ and\n#\n# $$\\int_0^1 x\\,dx = \\frac{1}{2}$$\n"
    "\n# %%\nprint(6 * 7)\n"
)
PLAIN = '# j2 from \'macros.j2\' import header\n# {{ header("B", "B") }}\n\n# %%\nx = 1\n'


def test_pages_render_math_offline_from_file_urls(tmp_path: Path) -> None:
    root = write_tree(
        tmp_path / "course",
        {
            "course-specs/c.xml": TWO_TOPICS_SPEC,
            "slides/m_1/topic_100_alpha/slides_alpha.py": MATH,
            "slides/m_1/topic_200_beta/slides_beta.py": PLAIN,
        },
    )
    report = build(BuildOptions(spec=root / "course-specs/c.xml", progress=SilentProgress()))
    assert report.ok, report.render_text()
    out = root / "output"

    # once per output tree (tier x language), nowhere else
    trees = sorted(p.parent for p in out.rglob(ASSETS_DIR))
    assert [t.relative_to(out).as_posix() for t in trees] == [
        "public/De/Kurs",
        "public/En/Course",
        "speaker/De/Kurs",
        "speaker/En/Course",
    ]
    for bundle in NEEDS[Format.HTML]:  # decks (opt-in) bring reveal.js
        assert (trees[0] / ASSETS_DIR / bundle.name).is_dir(), bundle.name
    assert not (trees[0] / ASSETS_DIR / "reveal.js").exists()

    page = out / "public/En/Course/Slides/Html/Completed/Part/01 Math.html"
    html = page.read_text(encoding="utf-8")
    assert 'src="../../../../clx-assets/mathjax/tex-mml-chtml.js"' in html
    assert "cdnjs" not in html and "cdn.jsdelivr" not in html

    # the whole tree moved elsewhere still works: nothing points back into the build
    moved = tmp_path / "usb-stick"
    shutil.copytree(out / "public/En/Course", moved)
    seen, failed, errors = _open(moved / "Slides/Html/Completed/Part/01 Math.html")
    assert not [u for u in seen if not u.startswith("file:")], seen
    assert not failed, failed
    assert not errors, errors


def _open(page: Path) -> tuple[list[str], list[str], list[str]]:
    from playwright.sync_api import sync_playwright

    seen: list[str] = []
    failed: list[str] = []
    errors: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=shutil.which("chromium"), headless=True, args=list(CHROMIUM_FLAGS)
        )
        try:
            context = browser.new_context()

            def route(r) -> None:
                seen.append(r.request.url)
                if r.request.url.startswith("file:"):
                    r.continue_()
                else:
                    r.abort()

            context.route("**/*", route)
            tab = context.new_page()
            tab.on("requestfailed", lambda req: failed.append(req.url))
            tab.on("pageerror", lambda e: errors.append(str(e)))
            tab.goto(page.as_uri())
            tab.wait_for_function(
                "document.querySelectorAll('mjx-container').length >= 2", timeout=30_000
            )
            # rendered as math (CommonHTML glyphs), not left as TeX source
            text = tab.inner_text("#notebook-container")
            assert "$e^{i" not in text and "\\frac" not in text, text[:500]
            assert tab.evaluate("typeof require === 'function' && typeof jQuery === 'function'")
        finally:
            browser.close()
    return seen, failed, errors
