"""Huge cell outputs are bounded: truncated with a visible note and a warning naming the
cell's line; the limit is a setting (clx.toml max-output-mb)."""

from __future__ import annotations

from dataclasses import replace

from clx.course.variants import variants_for
from clx.notebooks import NotebookSource, render_language

PATH = "slides/m/topic_100_big/slides_big.py"
HEADER = '# j2 from "macros.j2" import header\n# {{ header("Groß", "Big") }}\n\n'
TEXT = (
    HEADER
    + "# %%\nprint('small')\n\n"
    + "# %%\nfor i in range(40):\n    print(str(i) * 25_000)\n"
    + "# %%\nimport base64\nfrom IPython.display import display, Image\n"
    + "display({'text/plain': 'x' * 900_000}, raw=True)\nprint('clx-after' + '-marker')\n"
)


def test_huge_outputs_are_truncated_with_a_note_and_a_warning(executor, settings, read):
    limited = replace(settings, max_output_bytes=500_000)
    src = NotebookSource(path=PATH, text=TEXT, prog_lang="python")
    result = render_language(src, "de", variants_for("de"), "01 Groß", limited, executor)
    assert not [p for p in result.problems if p.is_error], result.problems
    warnings = [p for p in result.problems if "output" in p.message and "truncated" in p.message]
    assert [w.line for w in warnings] == [7, 10], warnings
    assert all(w.file == PATH and "max-output-mb" in w.message for w in warnings)
    html = read.by_label(result.outputs)["de/completed/html"]
    assert len(html) < 2_500_000
    text = html.decode()
    assert "small" in text
    assert text.count("output truncated") == 2
    assert "clx-after-marker" not in text  # the third cell's output stopped at its limit


def test_outputs_below_the_limit_are_untouched(executor, settings, read):
    src = NotebookSource(path=PATH, text=TEXT, prog_lang="python")
    result = render_language(src, "de", variants_for("de"), "01 Groß", settings, executor)
    assert not [p for p in result.problems if "truncated" in p.message]
    text = read.by_label(result.outputs)["de/completed/html"].decode()
    assert "output truncated" not in text and "clx-after-marker" in text


def test_the_limit_comes_from_clx_toml(tmp_path):
    import subprocess
    import sys

    from clxtest import TWO_TOPICS_SPEC, notebook, write_tree

    root = write_tree(
        tmp_path / "course",
        {
            "clx.toml": "[build]\nmax-output-mb = 0.2\n",
            "course-specs/c.xml": TWO_TOPICS_SPEC,
            "slides/m/topic_1_alpha/slides_alpha.py": notebook("A", "A", "print('a' * 300_000)"),
            "slides/m/topic_2_beta/slides_beta.py": notebook("B", "B", "print('b' * 100_000)"),
        },
    )
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "clx.cli.main",
            "build",
            str(root / "course-specs/c.xml"),
            "--lang",
            "en",
            "--kind",
            "completed",
            "--format",
            "html",
        ],
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert r.returncode == 0, r.stderr
    [warning] = [line for line in r.stderr.splitlines() if "truncated" in line]
    assert warning.startswith("warning: slides/m/topic_1_alpha/slides_alpha.py:4"), warning
    assert "0.3 MB truncated to 0.2 MB (max-output-mb in clx.toml)" in warning
    html = next((root / "output").rglob("01 A.html")).read_text()
    assert "output truncated" in html and len(html) < 800_000
