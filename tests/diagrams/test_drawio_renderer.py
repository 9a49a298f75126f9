from __future__ import annotations

import time
from xml.etree import ElementTree as ET

import psutil
import pytest
from diagram_samples import BLUE, RED, WHITE, box_model, count, drawio_file, image, ink_box

from clx.diagrams.drawio import DrawioRenderer
from clx.problems import ContentError, InfrastructureError

SVG = "{http://www.w3.org/2000/svg}"
RED_BOX = drawio_file(box_model("#ff0000"))


def test_png_scale_3_border_20_symmetric_white(drawio: DrawioRenderer) -> None:
    im = image(drawio.render(RED_BOX, "png").data)
    left, top, right, bottom = ink_box(im)
    # A 120×60 box with a 1 px stroke at scale 3, border 20·3 on every side.
    assert (left, top) == (right, bottom)
    assert 59 <= left <= 63
    assert im.size[0] == pytest.approx(2 * left + 360, abs=4)
    assert im.size[1] == pytest.approx(2 * top + 180, abs=4)
    assert im.getpixel((0, 0)) == WHITE and im.getpixel((im.size[0] - 1, im.size[1] - 1)) == WHITE
    assert im.getpixel((im.size[0] // 2, im.size[1] // 2 - 25)) == RED
    assert count(im, RED) > 300 * 100


def test_svg_structure(drawio: DrawioRenderer) -> None:
    data = drawio.render(RED_BOX, "svg").data
    assert data.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    root = ET.fromstring(data)
    assert root.tag == f"{SVG}svg"
    assert root.get("width") == "182px"  # 120 + 2·20 border + stroke, at scale 1
    rect = next(root.iter(f"{SVG}rect"))
    assert (rect.get("x"), rect.get("width"), rect.get("fill")) == ("20", "120", "#ff0000")
    assert any(True for _ in root.iter(f"{SVG}foreignObject"))  # the HTML label
    assert "Hällo" in data.decode("utf-8")


def test_compressed_page_gives_identical_images(drawio: DrawioRenderer) -> None:
    packed = drawio_file(box_model("#ff0000"), compressed=True)
    for fmt in ("png", "svg"):
        assert drawio.render(packed, fmt).data == drawio.render(RED_BOX, fmt).data


def test_multi_page_file_renders_page_one(drawio: DrawioRenderer) -> None:
    two_pages = drawio_file(box_model("#ff0000"), box_model("#0000ff", x=400))
    im = image(drawio.render(two_pages, "png").data)
    assert count(im, RED) > 300 * 100 and count(im, BLUE) == 0
    assert b"#0000ff" not in drawio.render(two_pages, "svg").data


def test_output_is_deterministic(drawio: DrawioRenderer) -> None:
    for fmt in ("png", "svg"):
        assert drawio.render(RED_BOX, fmt).data == drawio.render(RED_BOX, fmt).data


def test_math_labels_are_typeset(drawio: DrawioRenderer) -> None:
    xml = drawio_file(box_model("#ffffff", label="$$x^2 + y^2$$", math=True))
    im = image(drawio.render(xml, "png").data)
    assert im.size[0] > 360 and count(im, (0, 0, 0)) > 50
    svg = drawio.render(xml, "svg").data.decode()
    assert "mjx" in svg.lower() or "mathjax" in svg.lower()


def test_not_xml_fails_fast_with_line_and_column(drawio: DrawioRenderer) -> None:
    started = time.monotonic()
    with pytest.raises(ContentError, match=r"not well-formed XML \(line 2, column") as err:
        drawio.render("<mxfile>\n<<oops\n", "png")
    assert err.value.problems[0].line == 2
    assert time.monotonic() - started < 1.0
    assert drawio.render(RED_BOX, "png").data  # and the page is untouched


def test_empty_diagram_is_content_error(drawio: DrawioRenderer) -> None:
    empty = drawio_file(
        '<mxGraphModel><root><mxCell id="0"/><mxCell id="1" parent="0"/></root></mxGraphModel>'
    )
    for fmt in ("png", "svg"):
        with pytest.raises(ContentError, match="empty"):
            drawio.render(empty, fmt)


def test_timeout_reloads_the_page(drawio: DrawioRenderer) -> None:
    reloads = drawio.reloads
    timeout, drawio.timeout = drawio.timeout, 0.001
    try:
        with pytest.raises(InfrastructureError, match="did not finish within"):
            drawio.render(RED_BOX, "png")
    finally:
        drawio.timeout = timeout
    assert drawio.reloads == reloads + 1
    assert count(image(drawio.render(RED_BOX, "png").data), RED) > 300 * 100


def test_browser_is_recycled_and_the_old_tree_is_gone(drawio: DrawioRenderer) -> None:
    drawio.render(RED_BOX, "svg")
    old_pids = drawio.process_ids
    assert len(old_pids) >= 2  # the Playwright driver and Chromium under it
    restarts, limit = drawio.restarts, drawio.recycle_after
    drawio.recycle_after = 1
    try:
        drawio.render(RED_BOX, "svg")
    finally:
        drawio.recycle_after = limit
    assert drawio.restarts == restarts + 1
    assert not set(old_pids) & set(drawio.process_ids)
    assert not [pid for pid in old_pids if _alive(pid)]


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
