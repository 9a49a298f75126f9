"""Bounding a cell's outputs, so one runaway ``print`` loop cannot make a 500 MB page.

After execution every code cell's outputs are measured; past the limit the rest is cut
(a stream in the middle, anything else whole) and a visible note takes its place. The
caller turns each cut into a warning naming the cell's source line.
"""

from __future__ import annotations

import json
from typing import Any

from nbformat import NotebookNode
from nbformat.v4 import new_output


def _size(output: Any) -> int:
    kind = output.get("output_type")
    if kind == "stream":
        return len(str(output.get("text", "")).encode("utf-8"))
    if kind == "error":
        return sum(len(line.encode("utf-8")) for line in output.get("traceback", []))
    total = 0
    for value in (output.get("data") or {}).values():
        total += len(value.encode("utf-8")) if isinstance(value, str) else len(json.dumps(value))
    return total


def megabytes(n: int) -> str:
    return f"{n / 1_000_000:.1f} MB"


def bound_outputs(nb: NotebookNode, limit: int) -> list[tuple[int, int]]:
    """Cut every code cell's outputs to ``limit`` bytes in place.

    Returns (cell index, bytes the cell produced) for each cell that was cut.
    """
    cut: list[tuple[int, int]] = []
    for index, cell in enumerate(nb.cells):
        outputs = cell.get("outputs") if cell.cell_type == "code" else None
        if not outputs:
            continue
        sizes = [_size(o) for o in outputs]
        total = sum(sizes)
        if total <= limit:
            continue
        kept, budget = [], limit
        for output, size in zip(outputs, sizes, strict=True):
            if size <= budget:
                kept.append(output)
                budget -= size
                continue
            if output.get("output_type") == "stream" and budget > 0:
                part = output.copy()
                part["text"] = (
                    str(output["text"]).encode("utf-8")[:budget].decode("utf-8", errors="ignore")
                )
                kept.append(part)
            break
        kept.append(
            new_output(
                "stream",
                name="stderr",
                text=f"\n[clx: output truncated, {megabytes(limit)} of {megabytes(total)} "
                "shown; the limit is max-output-mb in clx.toml]\n",
            )
        )
        cell["outputs"] = kept
        cut.append((index, total))
    return cut
