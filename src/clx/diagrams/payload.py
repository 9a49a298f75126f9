"""The JSON payload of a ``plantuml`` or ``drawio`` job.

The build names the source by its hash (its bytes sit in the blob store), so a worker
renders exactly what the build hashed even if the author saves the file meanwhile.
One job renders one diagram into every requested format.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

IMAGE_FORMATS = ("png", "svg")


@dataclass(frozen=True)
class DiagramJobPayload:
    source_path: str  # relative to the course root, '/'-separated (for messages)
    source_sha256: str  # the source bytes in ``<state_dir>/blobs``
    outputs: dict[str, str]  # format ("png" / "svg") -> absolute output path
    # The render target relative to the topic (``img/layers.png``), for messages;
    # defaults to the PNG output's file name.
    target: str | None = None

    def __post_init__(self) -> None:
        unknown = sorted(set(self.outputs) - set(IMAGE_FORMATS))
        if unknown:
            raise ValueError(f"unknown image format(s) {unknown}; use {list(IMAGE_FORMATS)}")
        if not self.outputs:
            raise ValueError("a diagram job needs at least one output")
        if len(self.source_sha256) != 64:
            raise ValueError(f"source_sha256 is not a sha256 hex digest: {self.source_sha256!r}")

    @property
    def target_label(self) -> str:
        if self.target:
            return self.target
        path = self.outputs.get("png") or next(iter(self.outputs.values()))
        return PurePosixPath(path).name

    def formats(self) -> list[str]:
        """Requested formats in a fixed order (PNG first: it is the one notebooks use)."""
        return [f for f in IMAGE_FORMATS if f in self.outputs]

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "source_path": self.source_path,
            "source_sha256": self.source_sha256,
            "outputs": dict(sorted(self.outputs.items())),
        }
        if self.target is not None:
            d["target"] = self.target
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> DiagramJobPayload:
        try:
            return cls(
                source_path=str(d["source_path"]),
                source_sha256=str(d["source_sha256"]),
                outputs={str(k): str(v) for k, v in dict(d["outputs"]).items()},
                target=d.get("target"),
            )
        except (KeyError, TypeError) as e:
            raise ValueError(f"malformed diagram job payload: {e!r}") from e
