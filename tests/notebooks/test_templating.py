"""Jinja expansion, search path, warnings and ids (no kernel needed for most)."""

from __future__ import annotations

from clx.course.variants import Format, Kind, Variant, variants_for
from clx.notebooks import NotebookSource, render_language
from clx.problems import Severity

PATH = "slides/module_100_basics/topic_100_intro/slides_intro.py"
NB = [Variant("de", Format.NOTEBOOK, Kind.COMPLETED)]


def render(settings, text, variants=NB, lang="de", executor=None, **source_args):
    src = NotebookSource(path=PATH, text=text, prog_lang="python", **source_args)
    return render_language(src, lang, variants, "01 Titel", settings, executor)


def only_output(result) -> bytes:
    [data] = result.outputs.values()
    return data


def test_include_beside_notebook(settings, read):
    text = '# %%\nx = 1\n\n# j2 include "snippet.py"\n'
    files = {"part/snippet.py": b"# %%\ny = {{ 1 + 1 }}  # lang={{ lang }}\n"}
    result = render(settings, text, topic_files=files, notebook_dir="part")
    assert result.problems == []
    assert read.ipynb_cells(only_output(result)) == [
        ("code", "x = 1"),
        ("code", "y = 2  # lang=de"),
    ]
    assert result.templates_used == ["snippet.py"]


def test_course_macro_overrides_bundled(settings, read):
    course_macros = (
        "{% macro header(title_de, title_en) -%}\n"
        '%% [markdown] lang="de"\n# Kurs-Kopf {{ title_de }} ({{ prog_lang }})\n\n'
        '# %% [markdown] lang="en"\n# Course head {{ title_en }}\n'
        "{%- endmacro %}\n"
    )
    text = '# j2 from "macros.j2" import header\n# {{ header("Eins", "One") }}\n'
    result = render(settings, text, course_templates={"macros.j2": course_macros})
    assert result.problems == []
    assert read.ipynb_cells(only_output(result)) == [("markdown", "Kurs-Kopf Eins (python)")]


def test_file_beside_notebook_wins_over_course_templates(settings, read):
    text = '# j2 include "part.j2"\n'
    result = render(
        settings,
        text,
        topic_files={"part.j2": b"# %%\nbeside = 1\n"},
        course_templates={"part.j2": "# %%\ncourse = 1\n"},
    )
    assert read.ipynb_cells(only_output(result)) == [("code", "beside = 1")]


def test_undefined_name_fails_its_format_with_line(settings):
    text = "# %%\nx = 1\n# j2 if is_html\n# %%\nprint({{ titel }})\n# j2 endif\n"
    result = render(settings, text, variants=variants_for("de"))
    [problem] = [p for p in result.problems if p.is_error]
    assert problem.message == "UndefinedError: 'titel' is undefined"
    assert problem.line == 5 and problem.file == PATH
    assert problem.variants == ("de/code-along/html", "de/completed/html", "de/speaker/html")
    assert {v.format for v in result.outputs} == {Format.NOTEBOOK, Format.CODE}


def test_syntax_error_and_missing_template(settings):
    result = render(settings, "# %%\nx = 1\n\n# %%\ny = {% if %}\n")
    [problem] = result.problems
    assert problem.line == 5 and problem.message.startswith("TemplateSyntaxError")
    result = render(settings, '# %%\nx = 1\n# j2 include "nowhere.py"\n')
    [problem] = result.problems
    assert (problem.line, problem.message) == (3, "TemplateNotFound: nowhere.py")
    result = render(settings, '# j2 include "../escape.py"\n')
    assert "may not contain '..'" in result.problems[0].message


def test_error_in_macro_reports_call_line(settings):
    text = '# j2 from "macros.j2" import header\n\n# {{ header("nur eins") }}\n'
    [problem] = render(settings, text).problems
    assert problem.line == 3 and "title_en" in problem.message
    assert problem.detail.startswith("in template macros.j2")


def test_tag_warnings_with_file_and_line_once(settings):
    text = (
        "# %%\nx = 1\n\n"
        '# %% tags=["privat"]\ny = 2\n\n'  # line 4
        '# %% [markdown] tags=["private"]\n# geheim\n\n'  # line 7
        '# %% [markdown] tags=["keep"]\n# text\n\n'  # line 10
        '# %% tags=["slide", "notes"]\nz = 3\n\n'  # line 13
        '# %% [markdown] lang="fr"\n# Bonjour\n'  # line 16
    )
    result = render(settings, text, variants=[*NB, Variant("de", Format.CODE, Kind.COMPLETED)])
    warnings = [p for p in result.problems if p.severity is Severity.WARNING]
    assert [(p.line, p.message) for p in warnings] == [
        (4, "unknown tag 'privat' on code cell"),
        (
            7,
            "tag 'private' is not supported; the cell appears in public outputs (use 'notes' or 'del')",
        ),
        (10, "tag 'keep' is meant for code cells, not for a markdown cell"),
        (13, "several slide tags ('slide', 'notes') on one cell; 'slide' is used"),
        (16, "lang value 'fr' is neither 'de' nor 'en'; the cell appears in no output"),
    ]
    assert all(p.file == PATH and p.variants == () for p in warnings)
    assert warnings[0].format() == f"warning: {PATH}:4: unknown tag 'privat' on code cell"
    assert not any(p.is_error for p in result.problems)


def test_globals_per_format(settings):
    text = (
        "# %%\nflags = '{{ lang }} {{ is_notebook }} {{ is_html }} {{ prog_lang }} {{ author }}'\n"
    )
    result = render(
        settings, text, variants=[*NB, Variant("de", Format.CODE, Kind.COMPLETED)], lang="de"
    )
    by_format = {v.format: b.decode() for v, b in result.outputs.items()}
    assert "de True False python Ada Lovelace" in by_format[Format.NOTEBOOK]
    assert "flags = 'de False False python Ada Lovelace'" in by_format[Format.CODE]


def test_duplicate_sources_get_distinct_ids(settings, read):
    text = "# %%\nx = 1\n\n# %%\nx = 1\n\n# %%\nx = 1\n"
    nb = read.ipynb(only_output(render(settings, text)))
    ids = [c["id"] for c in nb["cells"]]
    assert ids == [read.cell_id("x = 1"), read.cell_id("1:x = 1"), read.cell_id("2:x = 1")]


def test_jupytext_header_and_layout_metadata_dropped(settings, read):
    text = (
        "# ---\n# jupyter:\n#   jupytext:\n#     formats: py:percent\n# ---\n\n"
        '# %% tags=["keep"] custom="kept"\nimport os\n# %%\nx = 1\n'
    )
    nb = read.ipynb(only_output(render(settings, text)))
    assert [c["metadata"] for c in nb["cells"]] == [{"custom": "kept", "tags": ["keep"]}, {}]
    assert set(nb["metadata"]) == {"kernelspec", "language_info"}


def test_ipynb_bytes_format(settings):
    data = only_output(render(settings, '# %%\ns = "Grüße"\n'))
    assert data.endswith(b"}\n") and "Grüße".encode() in data
    assert data.startswith(b'{\n "cells": [\n  {\n')


def test_names_of_earlier_course_macros(settings, read):
    """Course-local macros.j2 of earlier predecessor versions use `name` and `source_name`."""
    course_macros = (
        "{% macro header(title_de, title_en) -%}\n"
        "%% [markdown]\n# <!-- {{ source_name }} | {{ name }} -->\n"
        "{%- endmacro %}\n"
    )
    text = '# j2 from "macros.j2" import header\n# {{ header("Eins", "One") }}\n'
    result = render(settings, text, course_templates={"macros.j2": course_macros})
    assert result.problems == []
    assert read.ipynb_cells(only_output(result)) == [("markdown", f"<!-- {PATH} | 01 Titel -->")]


def test_broken_course_template_is_located_in_the_template(settings):
    """An error inside a course template names the template and its line, not the deck's
    call line, so every deck that uses it reports the same (groupable) problem."""
    course_macros = (
        "{% macro header(title_de, title_en) -%}\n"
        "%% [markdown]\n"
        "# {{ titel }}\n"  # line 3: undefined
        "{%- endmacro %}\n"
    )
    text = '# j2 from "macros.j2" import header\n\n# {{ header("Eins", "One") }}\n'
    [problem] = render(settings, text, course_templates={"macros.j2": course_macros}).problems
    assert (problem.file, problem.line) == ("templates/macros.j2", 3)
    assert problem.message == "UndefinedError: 'titel' is undefined"
    assert problem.sources == (PATH,)
    syntax = "{% macro header(title_de, title_en) -%}\n# {% if %}\n{%- endmacro %}\n"
    [problem] = render(settings, text, course_templates={"macros.j2": syntax}).problems
    assert (problem.file, problem.line) == ("templates/macros.j2", 2)
    assert problem.message.startswith("TemplateSyntaxError")


def test_broken_template_beside_the_notebook_is_located_there(settings):
    text = '# %%\nx = 1\n\n# j2 include "snippet.py"\n'
    files = {"part/snippet.py": b"# %%\n\ny = {{ nirgends }}\n"}
    [problem] = render(settings, text, topic_files=files, notebook_dir="part").problems
    assert (problem.file, problem.line) == (PATH.rsplit("/", 1)[0] + "/snippet.py", 3)
