"""Unreadable and undecodable sources: one problem naming the path, never a traceback,
never garbage outputs, never raw control bytes on the terminal."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from clx.course.course import load_course
from clx.pipeline.run import BuildOptions, plan_jobs
from clxtest import TWO_TOPICS_SPEC, notebook, write_tree

LATIN1 = notebook("Prüfung", "Exam", "x = 1").replace("Prüfung", "Pr\xfcfung").encode("latin-1")
BINARY = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x1b[2J\x1b]0;pwned\x07" + bytes(range(256))


def course(tmp_path: Path, files: dict[str, str | bytes]) -> Path:
    root = write_tree(
        tmp_path / "course",
        {
            "course-specs/c.xml": TWO_TOPICS_SPEC,
            "slides/m_1/topic_100_alpha/slides_alpha.py": notebook("Alpha", "Alpha", "x = 1"),
            "slides/m_1/topic_200_beta/slides_good.py": notebook("Gut", "Good", "y = 2"),
            **files,
        },
    )
    return root / "course-specs" / "c.xml"


def plan_errors(spec: Path) -> tuple[list, list[str]]:
    plan, jobs = plan_jobs(load_course(spec), BuildOptions(spec=spec))
    return jobs, [p.format() for p in plan.errors]


def test_non_utf8_notebook_names_byte_line_and_encoding(tmp_path: Path) -> None:
    spec = course(tmp_path, {"slides/m_1/topic_200_beta/slides_latin.py": LATIN1})
    jobs, errors = plan_errors(spec)
    [err] = [e for e in errors if "slides_latin.py" in e]
    assert "slides/m_1/topic_200_beta/slides_latin.py:2" in err
    assert "0xfc" in err and "not UTF-8" in err and "latin-1" in err.lower(), err
    assert not any(j.source_rel.endswith("slides_latin.py") for j in jobs)
    assert any(j.source_rel.endswith("slides_good.py") for j in jobs)


def test_binary_file_with_a_notebook_name(tmp_path: Path) -> None:
    spec = course(tmp_path, {"slides/m_1/topic_200_beta/slides_image.py": BINARY})
    jobs, errors = plan_errors(spec)
    [err] = [e for e in errors if "slides_image.py" in e]
    assert "binary" in err, err
    assert not any(j.source_rel.endswith("slides_image.py") for j in jobs)


def test_unreadable_notebook_and_data_file(tmp_path: Path) -> None:
    spec = course(tmp_path, {})
    topic = spec.parents[1] / "slides/m_1/topic_200_beta"
    (topic / "slides_loop.py").symlink_to("slides_loop.py")  # reading it fails (ELOOP)
    (topic / "data.csv").symlink_to("gone.csv")  # dangling
    jobs, errors = plan_errors(spec)
    assert [e for e in errors if "topic_200_beta/slides_loop.py" in e and "cannot read" in e]
    assert [e for e in errors if "topic_200_beta/data.csv" in e and "cannot read" in e]
    assert any(j.source_rel.endswith("slides_good.py") for j in jobs)


def test_topic_folder_that_cannot_be_listed(tmp_path: Path, monkeypatch) -> None:
    spec = course(tmp_path, {"slides/m_1/topic_200_beta/sub/x.csv": "1\n"})
    locked = spec.parents[1] / "slides/m_1/topic_200_beta/sub"
    real_scandir = os.scandir

    def scandir(path="."):  # the file system refuses one folder (we run as root)
        if Path(path) == locked:
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    jobs, errors = plan_errors(spec)
    assert [e for e in errors if "topic_200_beta/sub" in e and "cannot list" in e], errors
    assert len(jobs) == 4


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


@pytest.mark.timeout(300)
def test_build_reports_bad_sources_without_control_bytes(tmp_path: Path) -> None:
    spec = course(
        tmp_path,
        {
            "slides/m_1/topic_200_beta/slides_image.py": BINARY,
            "slides/m_1/topic_200_beta/slides_latin.py": LATIN1,
        },
    )
    # Notebooks without code cells: no kernel has to start for this test.
    for p in spec.parents[1].rglob("slides_*.py"):
        if p.name in ("slides_alpha.py", "slides_good.py"):
            p.write_text(p.read_text().replace("# %%\n", "# %% [markdown]\n# "))
    out = tmp_path / "out"
    r = subprocess.run(
        [sys.executable, "-m", "clx.cli.main", "build", str(spec), "--output-dir", str(out), "-q"],
        capture_output=True,
        timeout=280,
    )
    stderr = r.stderr.decode("utf-8")
    assert r.returncode == 1, stderr
    assert "Traceback" not in stderr
    assert not _CONTROL.search(stderr.replace("\r", "")), repr(stderr)
    assert "slides_image.py" in stderr and "slides_latin.py" in stderr
    produced = [p.name for p in out.rglob("*") if p.is_file()]
    assert any(n.startswith("02 Gut") for n in produced), produced
    assert not any("Pr" in n or "image" in n for n in produced), produced
