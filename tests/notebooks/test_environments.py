"""What a course's Python environment is, remembered cheaply, and what a notebook uses of it."""

from __future__ import annotations

from pathlib import Path

import pytest

from clx.notebooks import environments
from clx.notebooks.environments import (
    course_python,
    describe_change,
    imported_modules,
    python_environment,
)
from clx.stamped_memo import StampedMemo
from course_envs import build_wheel, install_local_package, make_course_venv


def test_imported_modules_are_the_top_level_names_of_import_statements() -> None:
    code = (
        "import numpy as np, pandas\n"
        "from matplotlib.pyplot import plot\n"
        "    import scipy.stats  # indented, in a function\n"
        "from . import sibling\n"
        "# import commented_out\n"
        "x = 'import in_a_string'\n"
        "from sklearn import (\n    datasets,\n)\n"
    )
    assert imported_modules(code) == {"numpy", "pandas", "matplotlib", "scipy", "sklearn"}


def test_the_course_venv_is_the_default_interpreter(tmp_path: Path) -> None:
    import sys

    assert course_python(tmp_path) == sys.executable
    assert course_python(tmp_path, tmp_path / "x" / "python") == str(tmp_path / "x" / "python")
    python = make_course_venv(tmp_path / ".venv", with_clx_packages=False)
    assert course_python(tmp_path) == str(python)  # the link itself, not what it points to


def test_an_unchanged_environment_is_not_asked_again_and_an_install_is_seen(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    python = str(make_course_venv(tmp_path / ".venv"))
    memo_file = tmp_path / "state" / "environments.json"
    first = python_environment(python, StampedMemo(memo_file))
    assert first.has_ipykernel and first.version and first.interpreter == python
    before = first.identity({"clx_probe_mod", "json"})
    assert before["unresolved"] == ["clx_probe_mod"]  # json is the standard library's
    assert "ipykernel" in before["uses"] and "pyzmq" in before["uses"]  # and what it requires

    real_probe = environments.probe_python
    calls: list[str] = []

    def counting_probe(interpreter: str):
        calls.append(interpreter)
        return real_probe(interpreter)

    monkeypatch.setattr(environments, "probe_python", counting_probe)
    again = python_environment(python, StampedMemo(memo_file))  # a new build: from the file
    assert again == first and calls == []

    wheel = build_wheel(tmp_path / "wheels", "clx-probe-pkg", "clx_probe_mod", "VALUE = 1\n")
    install_local_package(Path(python), wheel)
    after = python_environment(python, StampedMemo(memo_file))
    assert calls == [python]  # the site-packages folder changed: asked once more
    assert after.packages["clx-probe-pkg"] == "1.0" and after.digest != first.digest
    now = after.identity({"clx_probe_mod", "json"})
    assert now["unresolved"] == [] and now["uses"]["clx-probe-pkg"] == "1.0"
    # Unaffected notebooks keep their identity.
    assert after.identity({"json"}) == first.identity({"json"})
    [line] = describe_change(before, now)
    assert line == (
        f"python environment {python} (Python {first.version}): 'clx-probe-pkg' 1.0 installed,"
        " import 'clx_probe_mod' now provided"
    )


def test_a_distribution_installed_twice_counts_with_the_copy_imports_find(
    tmp_path, monkeypatch
) -> None:
    # e.g. a venv's upgrade in front of the system's older copy: the key must name the
    # version the notebook imports, the first on sys.path.
    import os
    import sys

    from clx.notebooks.environments import probe_python

    for folder, version in (("front", "2.0"), ("behind", "1.0")):
        info = tmp_path / folder / f"clx_twice-{version}.dist-info"
        info.mkdir(parents=True)
        (info / "METADATA").write_text(
            f"Metadata-Version: 2.1\nName: clx-twice\nVersion: {version}\n"
        )
        (info / "top_level.txt").write_text("clx_twice\n")
    path = os.pathsep.join([str(tmp_path / "front"), str(tmp_path / "behind")])
    monkeypatch.setenv("PYTHONPATH", path)
    env, _ = probe_python(sys.executable)
    assert env.packages["clx-twice"] == "2.0"


def test_a_first_pip_install_user_changes_the_stamp(tmp_path, monkeypatch) -> None:
    # Outside a venv the user's site folder joins sys.path only once it exists; the
    # first `pip install --user` creates it, which must make the memo ask again.
    import sys

    from clx.notebooks.environments import probe_python
    from clx.stamped_memo import stat_stamp

    base = getattr(sys, "_base_executable", sys.executable)
    monkeypatch.setenv("PYTHONUSERBASE", str(tmp_path / "user"))
    _, watched = probe_python(base)
    user_sites = [p for p in watched if p.startswith(str(tmp_path / "user"))]
    assert len(user_sites) == 1, watched
    before = stat_stamp(watched)
    Path(user_sites[0]).mkdir(parents=True)
    assert stat_stamp(watched) != before
