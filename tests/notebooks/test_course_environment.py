"""Python notebooks run in the course's own interpreter, fork server included."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from clx.course.variants import Format, Kind, Variant
from clx.notebooks import Executor, NotebookSettings, NotebookSource, render_language
from clx.notebooks.kernels import NoIpykernel
from course_envs import make_course_venv

from .conftest import SETTINGS

SOURCE = """# %%
import importlib.util, os, sys
print("PREFIX", sys.prefix)
print("HAS-CLX", importlib.util.find_spec("clx") is not None)
print("PPID-IS-ZYGOTE", "zygote" in open(f"/proc/{os.getppid()}/cmdline").read())
print("CWD-FIRST", sys.path[0] == os.getcwd())
"""


@pytest.fixture(scope="module")
def course_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_course_venv(tmp_path_factory.mktemp("course") / ".venv")


def _run(executor: Executor, python: Path) -> str:
    src = NotebookSource(path="slides_env.py", text=SOURCE, prog_lang="python")
    v = Variant("en", Format.HTML, Kind.COMPLETED)
    settings = NotebookSettings(**{**SETTINGS.__dict__, "python": str(python)})
    result = render_language(src, "en", [v], "01 Env", settings, executor)
    assert not result.failed, result.problems
    return result.outputs[v].decode("utf-8")


@pytest.fixture
def pool_executor() -> Iterator[Executor]:
    with Executor() as ex:
        yield ex


def test_notebooks_run_forked_in_the_course_interpreter(
    pool_executor: Executor, course_python: Path
) -> None:
    before = {p.pid for p in psutil.Process().children(recursive=True)}  # other executors'
    html = _run(pool_executor, course_python)
    assert f"PREFIX {course_python.parent.parent}" in html
    assert "HAS-CLX False" in html  # neither the fork server nor the kernel sees clx
    assert "PPID-IS-ZYGOTE True" in html
    assert "CWD-FIRST True" in html
    # Spares are kept per interpreter, with a fork server each, ours and the course's
    # (forked kernels keep their zygote's command line).
    pool_executor.warm("python3")
    pool_executor.warm("python3", str(course_python))
    forked = [
        p
        for p in psutil.Process().children(recursive=True)
        if p.pid not in before and any(a.endswith("zygote.py") for a in p.cmdline()[1:2])
    ]
    assert {p.cmdline()[0] for p in forked} == {str(course_python), sys.executable}


def test_without_forking_the_course_interpreter_runs_the_kernel(
    monkeypatch: pytest.MonkeyPatch, course_python: Path
) -> None:
    monkeypatch.setenv("CLX_KERNEL_FORK", "0")
    with Executor() as ex:
        html = _run(ex, course_python)
    assert f"PREFIX {course_python.parent.parent}" in html
    assert "HAS-CLX False" in html
    assert "PPID-IS-ZYGOTE False" in html


def test_an_interpreter_without_ipykernel_is_a_clear_error(
    tmp_path: Path, pool_executor: Executor
) -> None:
    bare = make_course_venv(tmp_path / "bare", with_clx_packages=False)
    with pytest.raises(NoIpykernel) as caught:
        pool_executor.warm("python3", str(bare))
    assert f"{bare} -m pip install ipykernel" in str(caught.value)
    src = NotebookSource(path="slides_env.py", text=SOURCE, prog_lang="python")
    v = Variant("en", Format.HTML, Kind.COMPLETED)
    settings = NotebookSettings(python=str(bare))
    result = render_language(src, "en", [v], "01 Env", settings, pool_executor)
    [problem] = [p for p in result.problems if p.is_error]
    assert f"{bare} -m pip install ipykernel" in problem.message
