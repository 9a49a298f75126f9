"""The values that go into and come out of the notebook engine.

They are plain frozen data so that a worker can build them from a job payload and a
test can build them from literals; nothing here knows about files on disk.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from clx.course.variants import Variant
from clx.problems import Problem

# A code cell's outputs beyond this are cut (clx.notebooks.output_limit); clx.toml
# max-output-mb changes it.
DEFAULT_MAX_OUTPUT_BYTES = 5_000_000


def _empty() -> Mapping[str, bytes]:
    return MappingProxyType({})


def _empty_text() -> Mapping[str, str]:
    return MappingProxyType({})


@dataclass(frozen=True)
class NotebookSource:
    """One notebook source with everything its templates and its execution may read."""

    path: str
    """Relative to the course root, '/'-separated; used in every message."""
    text: str
    """The raw source, before Jinja."""
    prog_lang: str
    """Language id from the notebook's suffix (``clx.course.languages``)."""
    notebook_dir: str = ""
    """Folder of the notebook relative to the topic root ("" for most notebooks)."""
    topic_files: Mapping[str, bytes] = field(default_factory=_empty)
    """Other files of the topic by '/'-separated path relative to the topic root.

    All of them are copied into the execution directory; those below ``notebook_dir``
    are the first Jinja search directory (``j2 include`` of a file beside the notebook).
    """
    course_templates: Mapping[str, str] = field(default_factory=_empty_text)
    """Files of ``<course root>/templates`` by name: the second Jinja search directory."""


@dataclass(frozen=True)
class NotebookSettings:
    """Course and operator settings that shape the output."""

    author: Mapping[str, str] = field(default_factory=_empty_text)
    """Output language -> author line of the header macro ("" or absent = no line)."""
    organization: Mapping[str, str] = field(default_factory=_empty_text)
    """Output language -> organisation line of the header macro."""
    cell_timeout: float = 120.0
    """Seconds one cell may run before its variant fails."""
    kernel_retries: int = 1
    """How often a dead kernel is replaced by a fresh one before the variant fails."""
    assets_href: str = "clx-assets"
    """The output tree's shared scripts (MathJax, require.js) relative to the HTML page."""
    max_output_bytes: int = DEFAULT_MAX_OUTPUT_BYTES
    """A code cell's outputs beyond this many bytes are cut, with a note and a warning."""
    execute: bool = True
    """False: completed and speaker HTML are exported without running the notebook
    (``[execute] skip``, ``<topic evaluate="no">``)."""
    allow_errors: bool = False
    """True: a failing cell keeps its error output and becomes a warning with its line
    instead of failing the variant (``[execute] allow-errors``, ``skip-errors="yes"``)."""
    python: str = ""
    """The interpreter Python notebooks run in, the course's own environment
    (``clx.notebooks.environments``); "" for the running one."""
    preload: tuple[str, ...] = ()
    """Third-party modules the kernel should already hold when it starts (what the
    course's notebooks imported last time); a hint for speed that changes no output."""


@dataclass
class LanguageResult:
    """Everything ``render_language`` produced for one (notebook, output language)."""

    outputs: dict[Variant, bytes] = field(default_factory=dict)
    """Bytes per variant that succeeded; a failed variant has no entry."""
    problems: list[Problem] = field(default_factory=list)
    """Errors (each naming the variants it failed) and warnings."""
    templates_used: list[str] = field(default_factory=list)
    """Sorted names of templates and includes that were loaded (inputs for cache keys)."""
    executions: int = 0
    """Kernel executions started (including retries); for tests and benchmarks."""
    modules: list[str] = field(default_factory=list)
    """Sorted third-party modules the executed notebook imported (python3 kernels
    forked by the fork server only), for the next build's preload."""

    @property
    def failed(self) -> bool:
        return any(p.is_error for p in self.problems)
