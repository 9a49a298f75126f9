"""A course's own Python environment in real builds: its packages are what the notebooks
import, and installing one re-runs exactly the notebook that needed it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from clx.course.course import load_course
from clx.course.outputs import plan_outputs
from clx.course.variants import Format, Kind
from clx.pipeline.explain import explain
from clx.pipeline.progress import SilentProgress
from clx.pipeline.run import BuildOptions, build
from clxtest import TWO_TOPICS_SPEC, notebook, write_tree
from course_envs import build_wheel, install_local_package, make_course_venv

FILES = {
    "course-specs/course.xml": TWO_TOPICS_SPEC,
    "slides/module_100/topic_100_alpha/slides_plain.py": notebook(
        "Schlicht", "Plain", 'import sys\nprint("clx-prefix", sys.prefix)'
    ),
    "slides/module_100/topic_200_beta/slides_needs.py": notebook(
        "Braucht", "Needs", 'import clx_probe_mod\nprint("clx-value", clx_probe_mod.VALUE)'
    ),
}


def _page(spec: Path, out: Path, stem: str) -> Path:
    plan = plan_outputs(load_course(spec, output_root=out))
    [nb] = [nb for nb in plan.notebooks if nb.file.path.stem == stem]
    return next(
        p
        for v, p in nb.paths.items()
        if v.format is Format.HTML and v.kind is Kind.COMPLETED and v.lang == "en"
    )


def _ran(report) -> set[str]:
    """Which decks had notebook jobs running in this build (by their output names)."""
    return {
        "plain" if any("Plain" in o or "Schlicht" in o for o in job.outputs) else "needs"
        for job in report.finished.values()
        if job.kind == "notebook"
    }


def test_installing_the_missing_package_reruns_exactly_that_notebook(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "course", FILES)
    python = make_course_venv(root / ".venv")  # found without any clx.toml
    spec, out = root / "course-specs" / "course.xml", tmp_path / "out"
    opts = BuildOptions(spec=spec, output_root=out, notebook_workers=1, progress=SilentProgress())

    first = build(opts)
    failures = [e for e in first.errors if "ModuleNotFoundError" in e.message]
    assert failures and all(e.file.endswith("slides_needs.py") for e in failures), (
        first.render_text()
    )
    assert f"{python} -m pip install clx_probe_mod" in failures[0].message
    assert len(first.errors) == len(failures), first.render_text()
    plain = _page(spec, out, "slides_plain").read_text("utf-8")
    assert f"clx-prefix {root / '.venv'}" in plain  # ran in the course's interpreter

    again = build(opts)  # nothing changed: nothing runs, the failure is reported again
    assert _ran(again) == set() and len(again.errors) == len(failures)

    wheel = build_wheel(tmp_path / "wheels", "clx-probe-pkg", "clx_probe_mod", "VALUE = 4711\n")
    install_local_package(python, wheel)
    would, lines = explain(opts, _page(spec, out, "slides_needs"))
    assert would, lines
    assert any(
        f"kernel: python environment {python} (Python" in line
        and "'clx-probe-pkg' 1.0 installed" in line
        and "import 'clx_probe_mod' now provided" in line
        for line in lines
    ), lines
    assert explain(opts, _page(spec, out, "slides_plain"))[0] is False

    fixed = build(opts)  # a plain build, no --retry-failed
    assert fixed.ok, fixed.render_text()
    assert _ran(fixed) == {"needs"}
    assert len(fixed.finished) == 2  # its two output languages, nothing else
    assert "clx-value 4711" in _page(spec, out, "slides_needs").read_text("utf-8")


def test_a_course_python_without_ipykernel_is_one_configuration_error(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "course", FILES)
    bare = make_course_venv(root / "bare", with_clx_packages=False)
    (root / "clx.toml").write_text('[kernels]\npython = "bare/bin/python"\n')
    spec, out = root / "course-specs" / "course.xml", tmp_path / "out"
    opts = BuildOptions(
        spec=spec, output_root=out, notebook_workers=1, progress=SilentProgress(), python=bare
    )
    report = build(opts)
    assert len(report.errors) == 1, report.render_text()
    [error] = report.errors
    assert error.category.value == "configuration"
    assert f"the course's Python environment {bare} has no ipykernel" in error.message
    assert f"{bare} -m pip install ipykernel" in error.message
    assert "slides_plain.py" in error.message and "slides_needs.py" in error.message
    assert _page(spec, out, "slides_plain").exists() is False  # executed pages are not built


def test_a_configured_python_that_does_not_exist_stops_the_build(tmp_path: Path) -> None:
    value = "nope/bin/python"
    root = write_tree(tmp_path / "course", FILES)
    (root / "clx.toml").write_text(f'[build]\nworkers = 1\n\n[kernels]\npython = "{value}"\n')
    spec = root / "course-specs" / "course.xml"
    r = subprocess.run(
        [sys.executable, "-m", "clx.cli.main", "build", str(spec), "--quiet"],
        capture_output=True,
        text=True,
        env={**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "config")},
        check=False,
    )
    assert r.returncode == 2, r.stderr
    assert f"{root / 'clx.toml'}:5: kernels.python = '{value}': no such file" in r.stderr


def test_jobs_that_run_no_kernel_do_not_depend_on_the_course_environment(tmp_path) -> None:
    # A code-along-only job (a focused build) executes nothing: neither the interpreter
    # nor the packages may be in its key.
    from clx.course.course import load_course
    from clx.pipeline.run import BuildOptions, plan_jobs
    from clxtest import TWO_TOPICS_SPEC, notebook, write_tree

    root = write_tree(tmp_path / "course", {
        "course-specs/c.xml": TWO_TOPICS_SPEC,
        "slides/m_1/topic_100_alpha/slides_alpha.py": notebook("A", "A", "import json"),
        "slides/m_1/topic_200_beta/slides_beta.py": notebook("B", "B", "1"),
    })
    spec = root / "course-specs/c.xml"
    opts = BuildOptions(spec=spec, kinds=("code-along",))
    _, planned = plan_jobs(load_course(spec), opts)
    jobs = [p for p in planned if p.job.kind == "notebook"]
    assert jobs and all(p.job.payload["kernel"] == "" for p in jobs)
    assert all(p.job.payload["python"] == "" for p in jobs)
    _, full = plan_jobs(load_course(spec), BuildOptions(spec=spec))
    assert all(p.job.payload["kernel"] for p in full if p.job.kind == "notebook")
