"""The JSON payload of a ``notebook`` job: one notebook, one output language.

Kept apart from the engine so that the build can create payloads without importing
jupytext, nbconvert and nbclient.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from clx.notebooks.model import DEFAULT_MAX_OUTPUT_BYTES


@dataclass(frozen=True)
class NotebookJobPayload:
    """Canonical inputs of one notebook job (JSON-safe through ``to_dict``)."""

    source_path: str  # relative to the course root, '/'-separated
    text: str  # the raw source
    prog_lang: str
    lang: str  # output language: "de" or "en"
    page_title: str  # HTML <title>: the output file name without extension
    outputs: dict[str, str]  # variant label (e.g. "de/completed/html") -> absolute path
    notebook_dir: str = ""
    topic_files: dict[str, str] = field(default_factory=dict)  # topic-relative path -> sha256
    course_templates: dict[str, str] = field(default_factory=dict)  # name -> sha256
    author: str = ""
    organization: str = ""
    cell_timeout: float = 120.0
    kernel_retries: int = 1
    assets_href: str = "clx-assets"  # the tree's assets folder, relative to the HTML pages
    max_output_bytes: int = DEFAULT_MAX_OUTPUT_BYTES
    execute: bool = True  # False: completed/speaker HTML unexecuted
    allow_errors: bool = False  # failing cells are warnings, their error output stays
    python: str = ""  # the interpreter Python notebooks run in ("" = the worker's default)
    # Modules for the kernel fork server to preload (clx.pipeline.preload); a speed hint
    # that changes no output, so it is left out of the cache key (JobPlanner.as_seen).
    preload: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> NotebookJobPayload:
        return cls(
            source_path=data["source_path"],
            text=data["text"],
            prog_lang=data["prog_lang"],
            lang=data["lang"],
            page_title=data["page_title"],
            outputs=dict(data["outputs"]),
            notebook_dir=data.get("notebook_dir", ""),
            topic_files=dict(data.get("topic_files") or {}),
            course_templates=dict(data.get("course_templates") or {}),
            author=data.get("author", ""),
            organization=data.get("organization", ""),
            cell_timeout=float(data.get("cell_timeout", 120.0)),
            kernel_retries=int(data.get("kernel_retries", 1)),
            assets_href=str(data.get("assets_href", "clx-assets")),
            max_output_bytes=int(data.get("max_output_bytes", DEFAULT_MAX_OUTPUT_BYTES)),
            execute=bool(data.get("execute", True)),
            allow_errors=bool(data.get("allow_errors", False)),
            python=str(data.get("python", "")),
            preload=[str(n) for n in data.get("preload") or ()],
        )
