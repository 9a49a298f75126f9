"""The two job kinds end to end: payload → blob store → real tool → Outcome."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from diagram_samples import (
    PUML_BROKEN,
    PUML_BROKEN_LINE,
    PUML_CLASS,
    RED,
    box_model,
    count,
    drawio_file,
    image,
)

from clx.diagrams.payload import DiagramJobPayload
from clx.problems import Severity
from clx.store import BlobStore
from clx.workers.handler import JobView
from clx.workers.handlers.drawio import DrawioHandler
from clx.workers.handlers.plantuml import PlantUmlHandler


@pytest.fixture(scope="module")
def plantuml_handler() -> Iterator[PlantUmlHandler]:
    handler = PlantUmlHandler()
    handler.start()
    yield handler
    handler.stop()


@pytest.fixture(scope="module")
def drawio_handler() -> Iterator[DrawioHandler]:
    handler = DrawioHandler()
    handler.start()
    yield handler
    handler.stop()


def make_job(tmp_path: Path, kind: str, source: str | bytes, rel: str, formats=("png", "svg")):
    state = tmp_path / ".clx"
    data = source.encode("utf-8") if isinstance(source, str) else source
    digest = BlobStore(state / "blobs").put(data)
    stem = Path(rel).stem
    outputs = {fmt: str(tmp_path / "renders" / f"{stem}.{fmt}") for fmt in formats}
    payload = DiagramJobPayload(rel, digest, outputs, target=f"img/{stem}.png")
    return JobView(id=1, kind=kind, payload=payload.to_dict(), state_dir=state), outputs


def test_payload_round_trip_and_validation() -> None:
    p = DiagramJobPayload("a/pu/x.pu", "0" * 64, {"svg": "/o/x.svg", "png": "/o/x.png"})
    assert DiagramJobPayload.from_dict(p.to_dict()) == p
    assert p.formats() == ["png", "svg"] and p.target_label == "x.png"
    with pytest.raises(ValueError, match="unknown image format"):
        DiagramJobPayload("x.pu", "0" * 64, {"gif": "/o/x.gif"})
    with pytest.raises(ValueError, match="malformed"):
        DiagramJobPayload.from_dict({"source_path": "x.pu"})


def test_plantuml_job_renders_png_and_svg(tmp_path: Path, plantuml_handler) -> None:
    job, outputs = make_job(tmp_path, "plantuml", PUML_CLASS, "m/t/pu/classes.pu")
    outcome = plantuml_handler.run(job)
    assert outcome.problems == [] and not outcome.failed
    assert set(outcome.files) == set(outputs.values())
    assert count(image(outcome.files[outputs["png"]]), RED) > 5000
    assert outcome.files[outputs["svg"]].lstrip().startswith(b"<svg")
    assert outcome.info["tools"]["plantuml"][0].isdigit()


def test_broken_plantuml_is_an_error_problem(tmp_path: Path, plantuml_handler) -> None:
    job, _ = make_job(tmp_path, "plantuml", PUML_BROKEN, "m/t/pu/broken.pu")
    outcome = plantuml_handler.run(job)
    assert outcome.failed and outcome.files == {}
    (problem,) = outcome.problems
    assert (problem.file, problem.target, problem.line) == (
        "m/t/pu/broken.pu",
        "img/broken.png",
        PUML_BROKEN_LINE,
    )
    assert problem.format().startswith(
        f"error: m/t/pu/broken.pu:{PUML_BROKEN_LINE} -> img/broken.png:"
    )


def test_several_blocks_give_one_warning(tmp_path: Path, plantuml_handler) -> None:
    two = PUML_CLASS + "@startuml\nA -> B\n@enduml\n"
    job, outputs = make_job(tmp_path, "plantuml", two, "m/t/pu/two.pu")
    outcome = plantuml_handler.run(job)
    assert not outcome.failed and len(outcome.files) == 2
    (warning,) = outcome.problems
    assert warning.severity is Severity.WARNING and warning.file == "m/t/pu/two.pu"


def test_non_utf8_source_is_a_content_problem(tmp_path: Path, plantuml_handler) -> None:
    job, _ = make_job(tmp_path, "plantuml", b"@startuml\nA -> \xff\n@enduml\n", "m/t/pu/bin.pu")
    outcome = plantuml_handler.run(job)
    assert outcome.failed and "not UTF-8" in outcome.problems[0].message


def test_drawio_job_renders_png_and_svg(tmp_path: Path, drawio_handler) -> None:
    xml = drawio_file(box_model("#ff0000"), compressed=True)
    job, outputs = make_job(tmp_path, "drawio", xml, "m/t/drawio/layers.drawio")
    outcome = drawio_handler.run(job)
    assert outcome.problems == []
    assert count(image(outcome.files[outputs["png"]]), RED) > 300 * 100
    assert b"<svg" in outcome.files[outputs["svg"]]


def test_non_xml_drawio_is_an_error_problem(tmp_path: Path, drawio_handler) -> None:
    job, _ = make_job(
        tmp_path, "drawio", "<mxfile>\n  <diagram>\n    <oops\n", "m/t/drawio/bad.drawio", ("png",)
    )
    outcome = drawio_handler.run(job)
    (problem,) = outcome.problems
    assert problem.is_error and problem.line is not None
    assert problem.format().startswith("error: m/t/drawio/bad.drawio:")
    assert "-> img/bad.png: not well-formed XML (line" in problem.format()
