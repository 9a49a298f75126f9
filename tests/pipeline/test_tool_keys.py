"""Tools outside Python that shape output bytes are ingredients of their jobs' keys."""

from __future__ import annotations

import shutil
from pathlib import Path

from clx.course.course import load_course
from clx.diagrams.tools import chromium_version
from clx.pipeline.run import BuildOptions, plan_jobs
from clxtest import notebook, write_tree

SPEC = (
    "<course><name><de>Kurs</de><en>Course</en></name><prog-lang>python</prog-lang>"
    "<sections><section><name><de>Teil</de><en>Part</en></name>"
    "<topics><topic>box</topic></topics></section></sections></course>\n"
)
DRAWIO = (
    '<mxfile host="clx-tests"><diagram id="p0" name="Seite 1"><mxGraphModel><root>'
    '<mxCell id="0"/><mxCell id="1" parent="0"/></root></mxGraphModel></diagram></mxfile>\n'
)


def drawio_job(spec: Path, out: Path):
    _, planned = plan_jobs(load_course(spec, output_root=out), BuildOptions(spec=spec))
    [job] = [p for p in planned if p.job.kind == "drawio"]
    return job


def test_the_chromium_that_draws_a_diagram_is_in_its_key(tmp_path, monkeypatch) -> None:
    root = write_tree(tmp_path / "course", {
        "course-specs/c.xml": SPEC,
        "slides/m/topic_100_box/slides_box.py": notebook("Box", "Box", "1"),
        "slides/m/topic_100_box/drawio/box.drawio": DRAWIO,
    })
    spec, out = root / "course-specs/c.xml", tmp_path / "out"
    real = drawio_job(spec, out)
    installed = chromium_version(Path(shutil.which("chromium") or "chromium"))
    assert real.job.payload["chromium"] == f"chromium {installed}"
    assert real.ingredients["chromium"] == f"chromium {installed}"  # readable in explain
    assert (root / ".clx/tools.json").is_file()  # asked once, remembered under a stamp

    # Another Chromium on PATH (an upgrade): the diagram renders again.
    other = tmp_path / "bin"
    other.mkdir()
    (other / "chromium").write_text("#!/bin/sh\necho 'Chromium 999.0.1.2 built on tests'\n")
    (other / "chromium").chmod(0o755)
    monkeypatch.setenv("PATH", f"{other}:/usr/bin:/bin")
    upgraded = drawio_job(spec, out)
    assert upgraded.job.payload["chromium"] == "chromium 999.0.1.2"
    assert upgraded.job.cache_key != real.job.cache_key
