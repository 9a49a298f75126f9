"""A small, safe XML reader that keeps line numbers.

ElementTree drops line numbers, and spec errors must name the line. This reader uses
expat directly with the protections defusedxml applies: no DTDs, no entity
declarations, no external entities, so nothing is ever expanded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from xml.parsers import expat

# A course spec is about six levels deep; far deeper nesting is a broken or hostile file,
# and walking it recursively would exhaust Python's stack.
MAX_DEPTH = 100


class XmlSyntaxError(Exception):
    def __init__(self, message: str, line: int, column: int) -> None:
        super().__init__(message)
        self.line = line
        self.column = column


@dataclass
class Node:
    tag: str
    attrs: dict[str, str]
    line: int
    children: list[Node] = field(default_factory=list)
    text: str = ""  # text before the first child element
    all_text: str = ""  # all direct text content

    def find(self, tag: str) -> Node | None:
        return next((c for c in self.children if c.tag == tag), None)

    def findall(self, tag: str) -> list[Node]:
        return [c for c in self.children if c.tag == tag]

    def iter(self, tag: str):
        """All descendants (and self) with this tag, in document order."""
        if self.tag == tag:
            yield self
        for c in self.children:
            yield from c.iter(tag)


def parse_xml(data: bytes) -> Node:
    parser = expat.ParserCreate()
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    stack: list[Node] = []
    root: list[Node] = []

    def forbid(what: str):
        def handler(*_args):
            raise XmlSyntaxError(
                f"{what} are not allowed in a course spec",
                parser.CurrentLineNumber,
                parser.CurrentColumnNumber + 1,
            )

        return handler

    def start(tag: str, attrs: dict[str, str]) -> None:
        if len(stack) >= MAX_DEPTH:
            raise XmlSyntaxError(
                f"elements nested deeper than {MAX_DEPTH} levels",
                parser.CurrentLineNumber,
                parser.CurrentColumnNumber + 1,
            )
        node = Node(tag, dict(attrs), parser.CurrentLineNumber)
        if stack:
            stack[-1].children.append(node)
        else:
            root.append(node)
        stack.append(node)

    def end(_tag: str) -> None:
        stack.pop()

    def chars(data: str) -> None:
        node = stack[-1]
        node.all_text += data
        if not node.children:
            node.text += data

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = chars
    parser.StartDoctypeDeclHandler = forbid("DTDs")
    parser.EntityDeclHandler = forbid("entity declarations")
    parser.ExternalEntityRefHandler = forbid("external entities")
    try:
        parser.Parse(data, True)
    except expat.ExpatError as e:
        msg = expat.ErrorString(e.code)
        raise XmlSyntaxError(f"malformed XML: {msg}", e.lineno, e.offset + 1) from None
    return root[0]
