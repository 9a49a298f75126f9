"""A rebuild after deleting the outputs says how many files it restored from the cache."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import jsonschema

from clx.cli.reporting import report_json
from clx.pipeline.progress import SilentProgress
from clx.pipeline.run import BuildOptions, build
from clxtest import TWO_TOPICS_SPEC, notebook, write_tree

SCHEMA = Path(__file__).resolve().parents[2] / "docs" / "build-report.schema.json"


def test_restore_counts_the_files_it_wrote(tmp_path: Path) -> None:
    root = write_tree(
        tmp_path / "course",
        {
            "course-specs/c.xml": TWO_TOPICS_SPEC,
            "slides/m_1/topic_100_alpha/slides_alpha.py": notebook("Alpha", "Alpha", "print('a')"),
            "slides/m_1/topic_200_beta/slides_beta.py": notebook("Beta", "Beta", "print('b')"),
        },
    )
    spec = root / "course-specs/c.xml"

    def run():
        report = build(BuildOptions(spec=spec, progress=SilentProgress()))
        assert report.ok, report.render_text()
        return report

    first = run()
    outputs = sorted(
        p for p in (root / "output").rglob("*") if p.is_file() and p.name != ".clx-manifest.json"
    )
    job_outputs = [
        p for p in outputs if p.suffix in (".html", ".ipynb", ".py") and p.name != "index.html"
    ]
    assert first.restored == 0

    unchanged = run()
    assert unchanged.restored == 0
    assert "4 of 4 job(s) answered, outputs already up to date" in unchanged.render_text()

    shutil.rmtree(root / "output")
    report = run()
    assert report.jobs_by_kind["notebook"] == {"cached": 4}
    assert report.restored == len(job_outputs) > 0
    assert (
        f"cache: 4 of 4 job(s) answered, {len(job_outputs)} file(s) restored"
        in report.render_text().splitlines()
    )
    doc = report_json(
        report, exit_status=0, spec=spec, course_root=root, output_root=root / "output"
    )
    jsonschema.validate(doc, json.loads(SCHEMA.read_text()))
    assert doc["cache"]["restored"] == len(job_outputs)
