from __future__ import annotations

import pytest
from diagram_samples import box_model, compress, drawio_file

from clx.diagrams.drawio_xml import check_drawio
from clx.problems import ContentError


def test_plain_compressed_and_bare_model() -> None:
    plain = check_drawio(drawio_file(box_model("#ff0000"), box_model("#0000ff")))
    assert (plain.pages, plain.first_page_name, plain.compressed) == (2, "Seite 1", False)
    packed = check_drawio(drawio_file(box_model("#ff0000", math=True), compressed=True))
    assert packed.compressed and packed.math
    assert check_drawio(box_model("#ff0000")).pages == 1


@pytest.mark.parametrize(
    ("text", "message", "line"),
    [
        ("just text", r"not well-formed XML \(line 1, column 1\)", 1),
        ('<mxfile>\n<diagram name="a">\n  <x></diagram></mxfile>', r"line 3, column 8", 3),
        ("<svg/>", "root element is <svg>", None),
        ("<mxfile></mxfile>", "no pages", None),
        ('<mxfile><diagram name="a">  </diagram></mxfile>', "is empty", None),
        (
            '<mxfile><diagram name="a">!!!notbase64</diagram></mxfile>',
            "cannot be decompressed",
            None,
        ),
        (
            '<!DOCTYPE x [<!ENTITY a "aaaa">]><mxfile><diagram>&a;</diagram></mxfile>',
            "EntitiesForbidden",
            None,
        ),
    ],
)
def test_bad_files_are_content_errors(text: str, message: str, line: int | None) -> None:
    with pytest.raises(ContentError, match=message) as err:
        check_drawio(text)
    assert err.value.problems[0].line == line


def test_malformed_compressed_page_has_no_file_line() -> None:
    text = f'<mxfile><diagram name="Seite 1">{compress("<mxGraphModel><root>")}</diagram></mxfile>'
    with pytest.raises(ContentError, match=r"page 1 \('Seite 1'\) holds malformed XML") as err:
        check_drawio(text)
    assert err.value.problems[0].line is None
