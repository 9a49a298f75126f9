"""The end report of a real build: each problem once, counts that agree, where outputs went."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from clx.course.variants import all_variants
from clx.pipeline.report import BuildReport
from clx.problems import Category, Problem
from clxtest import write_tree

SCHEMA = Path(__file__).resolve().parents[2] / "docs" / "build-report.schema.json"

SPEC = """<course>
  <name><de>Kurs</de><en>Course</en></name>
  <prog-lang>python</prog-lang>
  <sections><section><name><de>Teil</de><en>Part</en></name>
    <topics><topic>warned</topic><topic>b</topic><topic>c</topic></topics></section></sections>
</course>
"""

WARNED = """# j2 from 'macros.j2' import header
# {{ header("Warnung", "Warning") }}

# %% tags=["privat"]
print(6 * 7)

# %%
1 / 0
"""

INCLUDES_BROKEN = """# j2 from 'macros.j2' import header
# {{ header("Kaputt", "Broken") }}

# j2 include "broken.j2"
"""

A = "slides/m_100/topic_100_warned/slides_warned.py"


def clx(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "clx.cli.main", *args], capture_output=True, text=True, timeout=600
    )


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess]:
    root = write_tree(
        tmp_path_factory.mktemp("report") / "course",
        {
            "course-specs/c.xml": SPEC,
            A: WARNED,
            "slides/m_100/topic_200_b/slides_b.py": INCLUDES_BROKEN,
            "slides/m_100/topic_300_c/slides_c.py": INCLUDES_BROKEN,
            "templates/broken.j2": "# %%\nx = {{ nirgends }}\n",
        },
    )
    r = clx("build", str(root / "course-specs/c.xml"), "--output", "json", "-q")
    assert r.returncode == 1, r.stderr
    return root, r


def test_each_warning_once_listing_its_variants(built) -> None:
    _root, r = built
    doc = json.loads(r.stdout)
    jsonschema.validate(doc, json.loads(SCHEMA.read_text()))
    [warning] = doc["warnings"]
    assert (warning["file"], warning["line"]) == (A, 4)
    assert sorted(warning["variants"]) == sorted(v.label for v in all_variants())
    assert doc["warning_count"] == 1
    text_warnings = [line for line in r.stderr.splitlines() if line.startswith("warning:")]
    assert text_warnings == [f"warning: {A}:4 [all variants]: unknown tag 'privat' on code cell"]
    assert "1 warning(s)" in r.stderr


def test_errors_once_per_location_and_counts_agree(built) -> None:
    _root, r = built
    doc = json.loads(r.stdout)
    by_file = {(e["file"], e["line"]): e for e in doc["errors"]}
    assert sorted(by_file) == [(A, 8), ("templates/broken.j2", 2)], doc["errors"]
    assert by_file[A, 8]["variants"] == [
        "de/completed/html",
        "de/speaker/html",
        "en/completed/html",
        "en/speaker/html",
    ]
    template = by_file["templates/broken.j2", 2]
    assert template["message"] == "UndefinedError: 'nirgends' is undefined"
    assert template["sources"] == [
        "slides/m_100/topic_200_b/slides_b.py",
        "slides/m_100/topic_300_c/slides_c.py",
    ]
    assert doc["error_count"] == len(doc["errors"]) == 2
    text_errors = [line for line in r.stderr.splitlines() if line.startswith("error:")]
    assert len(text_errors) == 2, r.stderr
    assert "build 2 error(s)" in r.stderr


def test_report_says_where_the_outputs_went(built) -> None:
    root, r = built
    out = root / "output"
    assert f"outputs in {out}" in r.stderr, r.stderr
    for tree in ("public/De/Kurs", "public/En/Course", "speaker/De/Kurs", "speaker/En/Course"):
        assert f"  {tree}" in r.stderr.splitlines(), r.stderr
    assert json.loads(r.stdout)["paths"]["output_root"] == str(out)


def test_configuration_errors_count_alike_in_text_and_json() -> None:
    """A missing tool fails every job with one message: one entry in both reports."""
    missing = [
        Problem(
            "kernel 'java' is not installed",
            file=f"slides/t/{n}.java",
            variants=("de/completed/html",),
            category=Category.CONFIGURATION,
        )
        for n in ("a", "b")
    ]
    report = BuildReport(errors=missing)
    doc = report.to_dict()
    assert doc["error_count"] == len(doc["errors"]) == 1
    assert "affects 2 source(s)" in doc["errors"][0]["message"]
    assert "build 1 error(s)" in report.render_text()
