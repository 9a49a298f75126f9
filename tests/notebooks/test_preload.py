"""Preloaded modules (clx.notebooks.zygote): faster kernels, still one fresh process each.

Real kernels forked from a real zygote. The modules are real distributions of clx's
venv (yaml, markdown_it, jinja2) and small modules on PYTHONPATH that misbehave on
purpose: one raises the first time it is imported, one starts a thread, one asks for
the IPython shell at import time.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest

from clx.notebooks import Executor
from clx.notebooks.imports import shadowed, third_party

MODULES = {
    # Raises the first time anyone imports it (the zygote), then imports fine.
    "clx_flaky_mod.py": (
        "import os, pathlib\n"
        "_mark = pathlib.Path(os.environ['CLX_TEST_MARKS']) / 'flaky'\n"
        "if not _mark.exists():\n"
        "    _mark.write_text('x')\n"
        "    raise RuntimeError('first import fails')\n"
        "VALUE = 'flaky-ok'\n"
    ),
    "clx_thread_mod.py": (
        "import threading, time\n"
        "threading.Thread(target=time.sleep, args=(600,), daemon=True).start()\n"
        "VALUE = 'thread-ok'\n"
    ),
    # numpy's shape (no numpy here): a global random state seeded when imported.
    "numpy/__init__.py": "",
    "numpy/random.py": (
        "import os\n"
        "_state = os.urandom(8).hex()\n"
        "def seed():\n"
        "    global _state\n"
        "    _state = os.urandom(8).hex()\n"
        "def rand():\n"
        "    return _state\n"
    ),
    "clx_shell_mod.py": (
        "from IPython import get_ipython\nHAS_SHELL = get_ipython() is not None\n"
    ),
}
PRELOAD = [
    "clx_flaky_mod",
    "clx_no_such_module",
    "clx_shell_mod",
    "clx_thread_mod",
    "jinja2",
    "markdown_it",
    "yaml",
]


@pytest.fixture(scope="module")
def preloading(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Executor]:
    """An executor of its own, whose zygote and kernels see the modules above."""
    lib = tmp_path_factory.mktemp("site-packages")  # a third-party folder by its name
    marks = tmp_path_factory.mktemp("marks")
    for name, text in MODULES.items():
        (lib / name).parent.mkdir(exist_ok=True)
        (lib / name).write_text(text)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PYTHONPATH", f"{lib}:{__import__('os').environ.get('PYTHONPATH', '')}")
        mp.setenv("CLX_TEST_MARKS", str(marks))
        with Executor() as ex:
            ex.warm("python3")
            yield ex


def run(ex: Executor, *cells: str, preload=PRELOAD, files=None) -> list[str]:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    done = ex.execute(nb, kernel_name="python3", files=files or {}, preload=preload)
    return ["".join(o.get("text", "") for o in c.outputs) for c in done.cells]


PROBE = (
    "import sys\n"
    "print(sorted(m for m in ('yaml', 'markdown_it', 'jinja2', 'clx_thread_mod',"
    " 'clx_shell_mod', 'clx_flaky_mod') if m in sys.modules))"
)


def test_kernels_start_with_the_preloaded_modules_but_not_the_unfit_ones(preloading) -> None:
    (held,) = run(preloading, PROBE)
    # Preloaded: the real distributions. Not: the one that failed in the zygote, the one
    # that started a thread (the zygote was replaced without it), the one asking for
    # the shell; the missing name was skipped without breaking anything.
    assert held.strip() == "['jinja2', 'markdown_it', 'yaml']"


def test_state_never_reaches_another_notebook(preloading) -> None:
    writer = (
        "import yaml\nprint('SEEN', getattr(yaml, 'clx_note', None))\n"
        "yaml.clx_note = 'from the first notebook'\nleaked_global = 1"
    )
    reader = (
        "import yaml\nprint('SEEN', getattr(yaml, 'clx_note', None))\n"
        "print('GLOBAL', 'leaked_global' in globals())"
    )
    assert run(preloading, writer) == ["SEEN None\n"]
    assert run(preloading, reader) == ["SEEN None\nGLOBAL False\n"]


def test_a_notebooks_own_imports_work_with_a_stale_list(preloading) -> None:
    out = run(
        preloading,
        "import clx_flaky_mod, clx_thread_mod, clx_shell_mod\n"
        "print(clx_flaky_mod.VALUE, clx_thread_mod.VALUE, clx_shell_mod.HAS_SHELL)",
        "try:\n    import clx_no_such_module\nexcept ImportError as e:\n    print(type(e).__name__)",
    )
    # The shell module set itself up inside the kernel, with its shell, as without preload.
    assert out == ["flaky-ok thread-ok True\n", "ModuleNotFoundError\n"]


def test_outputs_equal_those_of_a_kernel_without_preload(preloading) -> None:
    cells = (
        "import yaml, markdown_it, jinja2\n"
        "print(yaml.safe_dump({'b': [1, 2], 'a': 'x'}))\n"
        "print(markdown_it.MarkdownIt().render('# T *e*'))\n"
        "print(jinja2.Template('{{ 6 * 7 }}').render())",
    )
    assert run(preloading, *cells) == run(preloading, *cells, preload=())
    with Executor() as plain:  # a zygote that was never asked to preload
        assert run(plain, *cells, preload=()) == run(preloading, *cells)


def test_the_kernel_reports_the_third_party_modules_its_notebook_imported(preloading) -> None:
    run(
        preloading,
        "import json, csv, yaml\n"  # stdlib, and a preloaded module the notebook uses
        "import sys; sys.path.insert(0, 'site-packages')\n"
        "import clx_local_mod\n"  # beside the notebook, in a folder named like a site dir
        "import markdown_it\n"
        "from IPython.display import display\n",  # what every kernel holds
        files={"site-packages/clx_local_mod.py": b"X = 1\n"},
    )
    found = preloading.last_modules
    assert {"yaml", "markdown_it", "markdown_it.main"} <= set(found)
    assert "jinja2" not in found  # preloaded, but this notebook never used it
    assert "mdurl" not in found  # preloaded with markdown_it, which brings it again
    assert "clx_local_mod" not in found
    assert not {"json", "csv", "IPython", "ipykernel", "sys"} & set(found)
    assert found == sorted(found)
    assert all(m.count(".") <= 1 and not re.search(r"(^|\.)_", m) for m in found)


def test_the_filter_keeps_installed_public_modules_only(tmp_path: Path) -> None:
    site = "/venv/lib/python3.11/site-packages"
    found = {
        "pandas": f"{site}/pandas/__init__.py",
        "pandas.core": f"{site}/pandas/core/__init__.py",
        "pandas.core.frame": f"{site}/pandas/core/frame.py",  # two dots
        "pandas._libs": f"{site}/pandas/_libs/__init__.py",  # private
        "numpy": "/usr/lib/python3/dist-packages/numpy/__init__.py",
        "helper": str(tmp_path / "cwd" / "helper.py"),  # the notebook's own
        "vendored": str(tmp_path / "cwd" / "site-packages" / "vendored.py"),
        "zmq": f"{site}/zmq/__init__.py",  # the zygote's own
        "ns_pkg": None,
        "stale": f"{site}/stale/__init__.py",  # preloaded, unused
    }
    kept = third_party(
        found, private=tmp_path, baseline={"zmq"}, present={"stale", "numpy"}, used={"numpy"}
    )
    assert kept == ["numpy", "pandas", "pandas.core"]
    json.dumps(kept)


def test_a_module_beside_the_notebook_wins_over_a_preloaded_one(preloading) -> None:
    files = {"sub/yaml.py": b"LOCAL = True\n", "sub/data.txt": b"x"}
    nb = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell(
                "import yaml, markdown_it\nprint(getattr(yaml, 'LOCAL', False), markdown_it.__name__)"
                "\nprint(sorted(n for n in globals() if n.startswith('_clx')))"
            )
        ]
    )
    done = preloading.execute(
        nb, kernel_name="python3", files=files, notebook_dir="sub", preload=PRELOAD
    )
    assert done.cells[0].outputs[0]["text"] == "True markdown_it\n[]\n"
    assert done.cells[0].execution_count == 1


def test_shadowed_names() -> None:
    files = ["a/yaml.py", "a/pkg/__init__.py", "a/deep/jinja2.py", "b/markdown_it.py", "x.so"]
    pre = {"yaml", "yaml.nodes", "pkg", "jinja2", "markdown_it", "zmq"}
    assert shadowed(files, "a", pre, {"zmq"}) == ["pkg", "yaml"]
    assert shadowed(["zmq.py", "x.so", "markdown_it.py"], "", pre, {"zmq"}) == ["markdown_it"]


def test_each_kernel_draws_its_own_random_numbers(preloading) -> None:
    # numpy's global state was seeded once, in the zygote (Python's random: see
    # test_forked_kernels).
    cell = "import numpy.random\nprint(numpy.random.rand())"
    held = run(
        preloading,
        "import sys\nprint('numpy.random' in sys.modules)",
        preload=[*PRELOAD, "numpy", "numpy.random"],
    )
    assert held == ["True\n"]
    draws = {
        run(preloading, cell, preload=[*PRELOAD, "numpy", "numpy.random"])[0] for _ in range(3)
    }
    assert len(draws) == 3


def test_a_matplotlibrc_beside_the_notebook_makes_the_kernel_import_matplotlib_itself() -> None:
    # matplotlib reads ./matplotlibrc when it is imported: preloaded in the zygote's empty
    # folder it would not see the notebook's, so the kernel must forget it first.
    pre = {"matplotlib", "matplotlib.pyplot", "numpy"}
    assert shadowed(["a/matplotlibrc", "a/deck.py"], "a", pre, set()) == ["matplotlib"]
    assert shadowed(["b/matplotlibrc"], "a", pre, set()) == []  # another folder's
    assert shadowed(["a/matplotlibrc"], "a", {"numpy"}, set()) == []  # not preloaded
