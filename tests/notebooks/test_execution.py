"""Execution with a real python3 kernel: outputs, working directory, errors, lifecycle."""

from __future__ import annotations

import re

import psutil
import pytest

from clx.course.variants import Format, Kind, Variant, variants_for
from clx.notebooks import NotebookSettings, NotebookSource, render_language
from clx.problems import Category

PATH = "slides/module_100_basics/topic_100_intro/slides_intro.py"
HEADER = '# j2 from "macros.j2" import header\n# {{ header("Einführung", "Introduction") }}\n\n'


def render(executor, settings, text, *, lang="de", variants=None, **source_args):
    src = NotebookSource(path=PATH, text=text, prog_lang="python", **source_args)
    variants = variants if variants is not None else variants_for(lang)
    return render_language(src, lang, variants, "01 Einführung", settings, executor)


def errors(result):
    return [p for p in result.problems if p.is_error]


def test_outputs_in_completed_and_speaker_only_one_execution(executor, settings, read):
    text = HEADER + '# %%\nvalue = 6 * 7\nprint(f"clx-result-{value}")\n'
    result = render(executor, settings, text)
    assert errors(result) == []
    out = read.by_label(result.outputs)
    assert "clx-result-42" in out["de/completed/html"].decode()
    assert "clx-result-42" in out["de/speaker/html"].decode()
    assert "clx-result-42" not in out["de/code-along/html"].decode()
    # completed and speaker HTML come from one execution (no code cell tagged notes)
    assert result.executions == 1
    for label in ("de/completed/notebook", "de/speaker/notebook"):
        assert "clx-result-42" not in out[label].decode()  # notebooks are never executed


def test_no_code_no_kernel(executor, settings):
    result = render(executor, settings, HEADER + "# %% [markdown]\n# Nur Text\n")
    assert errors(result) == [] and len(result.outputs) == 7
    assert result.executions == 0


def test_failing_cell_reports_source_line(executor, settings):
    text = HEADER + (
        "# %%\n"  # line 4
        "a = 1\n"  # 5
        "\n"  # 6
        "# %%\n"  # 7
        "b = 2\n"  # 8
        "c = b / 0\n"  # 9
        "print(c)\n"  # 10
    )
    result = render(executor, settings, text)
    [problem] = errors(result)
    assert problem.file == PATH
    assert problem.line == 9
    assert problem.message == "ZeroDivisionError: division by zero"
    assert problem.variants == ("de/completed/html", "de/speaker/html")  # grouped, one run
    assert "c = b / 0" in problem.detail and "\x1b[" not in problem.detail
    assert problem.category is Category.CONTENT
    # the executed kinds have no file at all; everything else is still produced
    labels = {v.label for v in result.outputs}
    assert labels == {
        "de/code-along/html",
        "de/code-along/notebook",
        "de/completed/notebook",
        "de/speaker/notebook",
        "de/completed/code",
    }


def test_error_inside_function_maps_to_calling_line(executor, settings):
    text = HEADER + (
        "# %%\n"  # 4
        "def boom():\n"  # 5
        "    raise ValueError('kaputt')\n"  # 6
        "\n"  # 7
        "# %%\n"  # 8
        "x = 1\n"  # 9
        "boom()\n"  # 10
    )
    [problem] = errors(
        render(executor, settings, text, variants=[Variant("de", Format.HTML, Kind.COMPLETED)])
    )
    assert (problem.line, problem.message) == (10, "ValueError: kaputt")


def test_error_in_included_cell_takes_include_line(executor, settings):
    text = HEADER + '# %%\nx = 1\n\n# j2 include "failing.py"\n'  # include on line 7
    result = render(
        executor,
        settings,
        text,
        variants=[Variant("de", Format.HTML, Kind.SPEAKER)],
        topic_files={"failing.py": b"# %%\nfirst = 1\nraise KeyError('nope')\n"},
    )
    [problem] = errors(result)
    assert problem.line == 7 and problem.message == "KeyError: 'nope'"
    assert result.templates_used == ["failing.py", "macros.j2"]


def test_speaker_code_notes_execute_separately(executor, settings):
    text = (
        HEADER
        + '# %%\nshared = 1\n\n# %% tags=["notes"]\nshared = 2\n\n# %%\nprint(f"seen-{shared}")\n'
    )
    result = render(executor, settings, text)
    assert errors(result) == []
    out = {v.label: b.decode() for v, b in result.outputs.items()}
    assert "seen-1" in out["de/completed/html"] and "seen-2" in out["de/speaker/html"]
    assert result.executions == 2


def test_helper_module_data_file_and_image_in_cwd(executor, settings):
    text = HEADER + (
        "# %%\nfrom helpers import double\nprint('helper', double(21))\n\n"
        "# %%\nfrom pathlib import Path\n"
        "print(Path('data/sales.csv').read_text().splitlines()[1])\n"
        "print(len(Path('img/photo.png').read_bytes()))\n"
    )
    files = {
        "helpers.py": b"def double(x):\n    return 2 * x\n",
        "data/sales.csv": b"a,b\nsales-row-1,2\n",
        "img/photo.png": b"\x89PNG" + bytes(96),
    }
    result = render(
        executor,
        settings,
        text,
        variants=[Variant("de", Format.HTML, Kind.COMPLETED)],
        topic_files=files,
    )
    assert errors(result) == []
    html = next(iter(result.outputs.values())).decode()
    assert "helper 42" in html and "sales-row-1,2" in html and "\n100\n" in html


def test_notebook_in_subfolder_runs_in_its_folder(executor, settings):
    text = "# %%\nimport os\nfrom local_tool import NAME\nprint(NAME, open('../top.txt').read())\n"
    files = {"part/local_tool.py": b"NAME = 'from-subfolder'\n", "top.txt": b"from-topic-root"}
    result = render(
        executor,
        settings,
        text,
        variants=[Variant("de", Format.HTML, Kind.COMPLETED)],
        topic_files=files,
        notebook_dir="part",
    )
    assert errors(result) == []
    assert "from-subfolder from-topic-root" in next(iter(result.outputs.values())).decode()


def test_fresh_kernel_and_directory_per_execution(executor, settings):
    first = HEADER + "# %%\nleak = 'x'\nopen('written.txt', 'w').write('1')\n"
    second = HEADER + (
        "# %%\nimport os\nprint('leak' in globals(), os.path.exists('written.txt'), 'state-check')\n"
    )
    assert errors(render(executor, settings, first)) == []
    result = render(
        executor, settings, second, variants=[Variant("de", Format.HTML, Kind.COMPLETED)]
    )
    assert "False False state-check" in next(iter(result.outputs.values())).decode()


def test_kernel_process_tree_is_killed(executor, settings):
    text = "# %%\nimport subprocess\np = subprocess.Popen(['sleep', '60'])\nprint(f'child-pid={p.pid}')\n"
    result = render(executor, settings, text, variants=[Variant("de", Format.HTML, Kind.COMPLETED)])
    pid = int(re.search(r"child-pid=(\d+)", next(iter(result.outputs.values())).decode()).group(1))
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE


def test_cell_timeout_fails_variant(executor):
    quick = NotebookSettings(cell_timeout=1)
    text = "# %%\nx = 1\n\n# %%\nimport time\ntime.sleep(30)\n"
    result = render(
        executor, quick, text, variants=[Variant("en", Format.HTML, Kind.COMPLETED)], lang="en"
    )
    [problem] = errors(result)
    assert problem.line == 4 and "time limit" in problem.message
    assert problem.variants == ("en/completed/html",)
    assert result.outputs == {}


def test_dead_kernel_is_retried_then_fails(executor):
    retry_once = NotebookSettings(kernel_retries=1)
    text = "# %%\nimport os\nos._exit(3)\n"
    result = render(
        executor, retry_once, text, variants=[Variant("de", Format.HTML, Kind.COMPLETED)]
    )
    [problem] = errors(result)
    assert problem.category is Category.INFRASTRUCTURE
    assert "died 2 time(s)" in problem.message
    assert result.executions == 2
    assert result.outputs == {}  # never an unexecuted page for an executed kind


def test_missing_kernel_is_configuration_error(executor, settings, read):
    text = (
        '// j2 from "macros.j2" import header\n// {{ header("Zeiger", "Pointers") }}\n\n'
        "// %%\nint x = 1;\n"
    )
    src = NotebookSource(path="slides/m/topic_1_ptr/slides_ptr.cpp", text=text, prog_lang="cpp")
    result = render_language(src, "de", variants_for("de"), "01 Zeiger", settings, executor)
    [problem] = errors(result)
    assert problem.category is Category.CONFIGURATION
    assert "'xcpp17'" in problem.message and "xeus-cling" in problem.message
    assert problem.variants == ("de/completed/html", "de/speaker/html")
    out = read.by_label(result.outputs)
    assert set(out) == {
        "de/code-along/html",
        "de/code-along/notebook",
        "de/completed/notebook",
        "de/speaker/notebook",
        "de/completed/code",
    }
    code = out["de/completed/code"].decode()
    assert code.startswith(
        '// %% [markdown]\n// <div style="text-align:center; font-size:200%;"><b>Zeiger</b></div>'
    )
    assert code.endswith("// %%\nint x = 1;\n")
    nb = read.ipynb(out["de/completed/notebook"])
    assert nb["metadata"]["kernelspec"] == {
        "display_name": "C++17",
        "language": "c++",
        "name": "xcpp17",
    }
    assert [c["cell_type"] for c in nb["cells"]] == ["markdown", "code"]


def test_identical_input_gives_identical_bytes(executor, settings):
    text = HEADER + (
        '# %% tags=["keep"]\nimport math\n\n# %%\nprint(math.sqrt(16))\n\n'
        '# %% [markdown] lang="de" tags=["answer"]\n# Vier.\n\n# %% [markdown] tags=["notes"]\n# Hinweis\n'
    )
    files = {"helpers.py": b"X = 1\n"}
    first = {
        **render(executor, settings, text, topic_files=files).outputs,
        **render(executor, settings, text, lang="en", topic_files=files).outputs,
    }
    second = {
        **render(executor, settings, text, topic_files=files).outputs,
        **render(executor, settings, text, lang="en", topic_files=files).outputs,
    }
    assert len(first) == 14
    assert first == second


@pytest.mark.parametrize("lang", ["de", "en"])
def test_input_notebook_node_is_not_changed(executor, settings, lang):
    # Same source twice within one call path: parse cache must not leak mutations.
    text = HEADER + '# %% tags=["notes"]\n# j2 if lang == "de"\nprint("n")\n# j2 endif\n'
    a = render(executor, settings, text, lang=lang)
    b = render(executor, settings, text, lang=lang)
    assert a.outputs == b.outputs


def test_failure_excerpt_is_the_users_cell_not_library_frames(executor, settings):
    """The excerpt shows the failing cell around its failing line (marked) and the final
    exception line; frames inside libraries (here the json module) are not shown."""
    text = HEADER + (
        "# %%\n"  # 4
        "import json\n"  # 5
        "\n"  # 6
        "# %%\n"  # 7
        "first = 1\n"  # 8
        "second = 2\n"  # 9
        "third = 3\n"  # 10
        "fourth = 4\n"  # 11
        'data = json.loads("{")\n'  # 12
        "after = 5\n"  # 13
        "print(after)\n"  # 14
    )
    [problem] = errors(render(executor, settings, text, variants=[VARIANT_COMPLETED]))
    assert problem.line == 12
    lines = problem.detail.splitlines()
    assert lines == [
        "    9 | second = 2",
        "   10 | third = 3",
        "   11 | fourth = 4",
        '>  12 | data = json.loads("{")',
        "   13 | after = 5",
        "   14 | print(after)",
        "JSONDecodeError: Expecting property name enclosed in double quotes: "
        "line 1 column 2 (char 1)",
    ]


def test_failure_excerpt_without_a_line_starts_at_the_cell(executor, settings):
    text = HEADER + "# %%\nx = 1\n\n# %%\nimport sys\nsys.exit(3)\n"
    [problem] = errors(render(executor, settings, text, variants=[VARIANT_COMPLETED]))
    assert problem.detail.splitlines()[0].endswith("| import sys"), problem.detail
    assert "site-packages" not in problem.detail


VARIANT_COMPLETED = Variant("de", Format.HTML, Kind.COMPLETED)


def test_a_missing_package_names_the_interpreter_to_install_into(executor, settings):
    import sys

    text = HEADER + "# %%\nimport clx_no_such_package.sub\n"
    result = render(executor, settings, text)
    [problem] = errors(result)
    assert problem.message.startswith("ModuleNotFoundError: No module named 'clx_no_such_package")
    assert f"{sys.executable} -m pip install clx_no_such_package" in problem.message
    assert problem.line == 5
