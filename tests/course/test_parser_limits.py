"""Limits of the spec parser and of the course layout are errors, never tracebacks."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from clx.course.course import load_course
from clx.course.spec import SpecError
from clxtest import SPEC, header, write_tree


def clx(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "clx.cli.main", *args], capture_output=True, text=True, timeout=120
    )


def course(tmp_path: Path, spec: str) -> Path:
    root = write_tree(
        tmp_path / "course",
        {
            "course-specs/c.xml": spec,
            "slides/module_100_basics/topic_100_intro/slides_intro.py": header("E", "I"),
            "slides/module_100_basics/topic_110_extra.py": header("X", "X"),
            "slides/module_100_basics/topic_120_loops.py": header("L", "L"),
        },
    )
    return root / "course-specs" / "c.xml"


@pytest.mark.parametrize("depth", [200, 100_000])
def test_deeply_nested_spec(tmp_path: Path, depth: int) -> None:
    deep = "<x>" * depth + "</x>" * depth
    spec = course(tmp_path, SPEC.format(dir_groups=deep))
    with pytest.raises(SpecError) as e:
        load_course(spec)
    [problem] = e.value.problems
    assert problem.file == "course-specs/c.xml" and problem.line == 16
    assert "nested" in problem.message
    r = clx("plan", str(spec))
    assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr
    assert "nested" in r.stderr


def test_output_folder_inside_slides(tmp_path: Path) -> None:
    spec = course(tmp_path, SPEC.format(dir_groups=""))
    out = spec.parents[1] / "slides/module_100_basics/topic_100_intro/out"
    with pytest.raises(SpecError) as e:
        load_course(spec, output_root=out)
    assert "inside the course's slides" in str(e.value)
    for cmd in ("plan", "build"):
        r = clx(cmd, str(spec), "--output-dir", str(out))
        assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr
        assert "inside the course's slides" in r.stderr
    assert not out.exists(), "nothing may be written into the source tree"
