"""Cutting the one diagram out of a PlantUML file before it goes down the pipe.

Pipe mode answers every ``@start… @end…`` block it reads, so sending a file with two
blocks would leave a second answer in the pipe and put every later job out of step.
We send exactly the first block and remember on which source line it starts, because
PlantUML numbers error lines from the ``@start…`` line (0-based).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from clx.diagrams.rendered import content_error

_START = re.compile(r"^\s*@start([a-z]+)\b", re.I)
_END = re.compile(r"^\s*@end([a-z]+)\b", re.I)


@dataclass(frozen=True)
class Block:
    text: str  # from the @start line to the @end line, ending with a newline
    first_line: int  # 1-based line of the @start line in the source
    kind: str  # "uml", "mindmap", "gantt", …


@dataclass(frozen=True)
class Blocks:
    first: Block
    count: int
    later_lines: tuple[int, ...]  # 1-based @start lines of the ignored blocks

    def source_line(self, plantuml_line: int) -> int:
        """Map the line PlantUML reports for the first block to the source file's line."""
        return self.first.first_line + max(plantuml_line, 0)


def split_blocks(source: str) -> Blocks:
    """The first diagram block and how many there are; ContentError if there is none."""
    lines = source.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    found: list[Block] = []
    start: int | None = None
    kind = ""
    for i, line in enumerate(lines):
        if start is None:
            m = _START.match(line)
            if m:
                start, kind = i, m.group(1).lower()
        else:
            m = _END.match(line)
            if m and m.group(1).lower() == kind:
                found.append(Block("\n".join(lines[start : i + 1]) + "\n", start + 1, kind))
                start = None
    if start is not None and not found:
        raise content_error(f"@start{kind} without a matching @end{kind}", line=start + 1)
    if not found:
        raise content_error("no @startuml … @enduml block found")
    return Blocks(found[0], len(found), tuple(b.first_line for b in found[1:]))
