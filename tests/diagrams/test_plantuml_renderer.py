from __future__ import annotations

import os
import signal
from pathlib import Path
from xml.etree import ElementTree as ET

import psutil
import pytest
from diagram_samples import PUML_BROKEN, PUML_BROKEN_LINE, PUML_CLASS, RED, WHITE, count, image

from clx.diagrams.plantuml import PlantUmlRenderer
from clx.diagrams.tools import PlantUmlTools, locate_plantuml_tools
from clx.problems import ConfigurationError, ContentError, InfrastructureError

SVG = "{http://www.w3.org/2000/svg}"


def test_png_at_200_dpi_with_the_diagram_colours(plantuml: PlantUmlRenderer) -> None:
    png = plantuml.render(PUML_CLASS, "png")
    assert png.warnings == ()
    im = image(png.data)
    svg_root = ET.fromstring(plantuml.render(PUML_CLASS, "svg").data)
    svg_w, svg_h = (float(svg_root.get(a, "0").removesuffix("px")) for a in ("width", "height"))
    # -Sdpi=200: the PNG is the 96 dpi drawing scaled by 200/96.
    assert im.size[0] == pytest.approx(svg_w * 200 / 96, abs=4)
    assert im.size[1] == pytest.approx(svg_h * 200 / 96, abs=4)
    assert im.getpixel((0, 0)) == WHITE
    assert count(im, RED) > 5000  # the class box filled #FF0000


def test_svg_structure_keeps_umlauts(plantuml: PlantUmlRenderer) -> None:
    root = ET.fromstring(plantuml.render(PUML_CLASS, "svg").data)
    assert root.tag == f"{SVG}svg"
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert "Äpfel" in texts and "Birne" in texts and "hat" in texts
    assert any(r.get("fill", "").upper() in ("#F00", "#FF0000") for r in root.iter(f"{SVG}rect"))


def test_output_is_deterministic(plantuml: PlantUmlRenderer) -> None:
    for fmt in ("png", "svg"):
        assert plantuml.render(PUML_CLASS, fmt).data == plantuml.render(PUML_CLASS, fmt).data


def test_syntax_error_reports_the_source_line(plantuml: PlantUmlRenderer) -> None:
    with pytest.raises(ContentError) as err:
        plantuml.render(PUML_BROKEN, "png")
    problem = err.value.problems[0]
    assert problem.line == PUML_BROKEN_LINE
    assert "Syntax Error" in problem.message
    # The pipe stays in step: the next diagram gets its own answer.
    assert image(plantuml.render(PUML_CLASS, "png").data).size[0] > 100


def test_only_first_block_is_rendered_with_a_warning(plantuml: PlantUmlRenderer) -> None:
    two = PUML_CLASS + "\n@startuml\nAlice -> Bob: second\n@enduml\n"
    rendered = plantuml.render(two, "png")
    assert rendered.data == plantuml.render(PUML_CLASS, "png").data
    (warning,) = rendered.warnings
    assert warning.line == PUML_CLASS.count("\n") + 2
    assert "only the first" in warning.message
    # Nothing of the second block is left in the pipe.
    svg = plantuml.render(PUML_CLASS, "svg").data
    assert b"second" not in svg


def test_killed_jvm_is_replaced(plantuml: PlantUmlRenderer) -> None:
    plantuml.render(PUML_CLASS, "png")
    old = plantuml.jvm_pid("png")
    assert old is not None
    os.kill(old, signal.SIGKILL)
    psutil.Process(old).wait(timeout=5)
    restarts = plantuml.restarts
    assert image(plantuml.render(PUML_CLASS, "png").data).size[0] > 100
    assert plantuml.jvm_pid("png") not in (None, old)
    assert plantuml.restarts == restarts + 1


def test_timeout_raises_infrastructure_error_and_restarts(plantuml: PlantUmlRenderer) -> None:
    plantuml.render(PUML_CLASS, "svg")
    old = plantuml.jvm_pid("svg")
    timeout, plantuml.timeout = plantuml.timeout, 0.0001
    try:
        with pytest.raises(InfrastructureError, match="no answer within"):
            plantuml.render(PUML_CLASS, "svg")
    finally:
        plantuml.timeout = timeout
    assert not psutil.pid_exists(old) or psutil.Process(old).status() == psutil.STATUS_ZOMBIE
    assert ET.fromstring(plantuml.render(PUML_CLASS, "svg").data).tag == f"{SVG}svg"


def test_stop_leaves_no_jvm_behind() -> None:
    with PlantUmlRenderer() as renderer:
        renderer.render("@startuml\nA -> B\n@enduml\n", "svg")
        pid = renderer.jvm_pid("svg")
        assert pid is not None and psutil.pid_exists(pid)
    assert not psutil.pid_exists(pid)


def test_graphviz_that_does_not_work_stops_the_start(tmp_path: Path) -> None:
    real = locate_plantuml_tools()
    broken = PlantUmlTools(java=real.java, jar=real.jar, dot=tmp_path / "no-dot-here")
    with pytest.raises(ConfigurationError, match="Graphviz") as err:
        PlantUmlRenderer(broken).start()
    assert "apt-get install --no-install-recommends graphviz" in str(err.value)
