from __future__ import annotations

import pytest

from clx.diagrams.plantuml_source import split_blocks
from clx.problems import ContentError


def test_first_block_and_its_line() -> None:
    blocks = split_blocks("' title\n\n@startuml\nA -> B\n@enduml\n")
    assert blocks.first.text == "@startuml\nA -> B\n@enduml\n"
    assert blocks.first.first_line == 3
    assert blocks.count == 1
    assert blocks.source_line(1) == 4


def test_several_blocks_only_first_is_kept() -> None:
    text = "@startuml\nA -> B\n@enduml\n\n@startmindmap\n* root\n@endmindmap\n"
    blocks = split_blocks(text)
    assert blocks.count == 2
    assert blocks.later_lines == (5,)
    assert "mindmap" not in blocks.first.text


def test_other_diagram_kinds_and_crlf() -> None:
    blocks = split_blocks("@startmindmap\r\n* a\r\n** b\r\n@endmindmap\r\n")
    assert blocks.first.kind == "mindmap"
    assert blocks.first.text == "@startmindmap\n* a\n** b\n@endmindmap\n"


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("class A\n", None, "no @startuml"),
        ("x\n@startuml\nA -> B\n", 2, "without a matching @enduml"),
    ],
)
def test_missing_block_is_content_error(text: str, line: int | None, message: str) -> None:
    with pytest.raises(ContentError, match=message) as err:
        split_blocks(text)
    assert err.value.problems[0].line == line
