"""Errors on purpose and execution switched off: `allow_errors` and `execute` settings."""

from __future__ import annotations

import dataclasses

from clx.course.variants import variants_for
from clx.notebooks import NotebookSource, render_language

PATH = "slides/module_100_basics/topic_100_demo/slides_demo.py"
HEADER = '# j2 from "macros.j2" import header\n# {{ header("Fehler", "Errors") }}\n\n'
PY = HEADER + (
    "# %%\n"  # 4
    "x = 6 * 7\n"  # 5
    "# %%\n"  # 6
    "y = 1\n"  # 7
    "z = y / 0\n"  # 8
    "# %%\n"  # 9
    'print(f"clx-after-{x}")\n'  # 10
)
JAVA = (
    "// %%\n"  # 1
    "record P(int x) {}\n"  # 2
    "P p = new P(1);\n"  # 3
    "// %%\n"  # 4
    "p.x = 5; // does not compile\n"  # 5
    "// %%\n"  # 6
    'System.out.println("clx-java-after " + p.x());\n'  # 7
)


def render(executor, settings, text, prog_lang="python", **changes):
    src = NotebookSource(path=PATH, text=text, prog_lang=prog_lang)
    settings = dataclasses.replace(settings, **changes)
    result = render_language(src, "en", variants_for("en"), "01 Errors", settings, executor)
    out = {v.label: b.decode("utf-8") for v, b in result.outputs.items()}
    return result, out


def test_without_allowed_errors_the_failing_cell_fails_the_deck(executor, settings) -> None:
    result, out = render(executor, settings, PY)
    assert [p.line for p in result.problems if p.is_error] == [8]
    assert "en/completed/html" not in out


def test_allowed_errors_keep_the_error_output_and_warn_once_with_the_line(executor, settings):
    result, out = render(executor, settings, PY, allow_errors=True)
    assert [p for p in result.problems if p.is_error] == []
    [warning] = [p for p in result.problems if not p.is_error]
    assert warning.line == 8 and "ZeroDivisionError" in warning.message
    assert result.executions == 1
    for label in ("en/completed/html", "en/speaker/html"):
        assert "ZeroDivisionError" in out[label] and "clx-after-42" in out[label]


def test_execution_switched_off_exports_without_outputs(executor, settings) -> None:
    result, out = render(executor, settings, PY, execute=False)
    assert result.problems == [] and result.executions == 0
    for label in ("en/completed/html", "en/speaker/html"):
        assert 'class="output_area"' not in out[label]
        assert "clx-after-42" not in out[label] and "ZeroDivisionError" not in out[label]


def test_a_java_compile_error_on_purpose_is_a_warning(executor, settings) -> None:
    result, out = render(executor, settings, JAVA, "java", allow_errors=True)
    assert [p for p in result.problems if p.is_error] == []
    [warning] = [p for p in result.problems if not p.is_error]
    # jjava reports no line inside the cell: the warning names the cell's marker line
    assert warning.line == 4 and "CompilationException" in warning.message, warning
    assert "clx-java-after 1" in out["en/completed/html"]
    assert "has private access" in out["en/completed/html"]
