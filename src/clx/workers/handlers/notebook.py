"""The ``notebook`` job kind: one (notebook, output language) per job.

A thin shell around ``clx.notebooks.render_language``: it turns the JSON payload into
the engine's values (file contents come from the build's blob store by hash, so the
worker processes exactly the bytes the build hashed), keeps one ``Executor`` with a
warm spare kernel per kernelspec for the worker's lifetime, and maps variant labels to
the output paths the build chose. The build names the kernels its jobs will use in
``CLX_WARM_KERNELS`` (comma-separated), so a worker boots a Java or Deno spare while it
starts instead of on its first such deck; without it a worker warms python3.

Python notebooks run in the interpreter their job names (the course's environment);
the python3 spare warmed at start is for the interpreter the build that started this
worker named in ``CLX_COURSE_PYTHON`` (a remote ``clx worker``: its own).
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Mapping
from types import MappingProxyType

from clx.course.languages import LANGUAGES
from clx.course.variants import Variant
from clx.notebooks import (
    Executor,
    KernelMissing,
    NotebookSettings,
    NotebookSource,
    render_language,
)
from clx.notebooks.environments import COURSE_PYTHON_VARIABLE, kernel_identity
from clx.notebooks.formats import warm_html
from clx.notebooks.kernels import NoIpykernel
from clx.notebooks.payload import NotebookJobPayload
from clx.problems import ConfigurationError, InfrastructureError
from clx.store import BlobStore
from clx.workers.handler import JobView, Outcome
from clx.workers.pool import PRELOAD_VARIABLE, WARM_KERNELS_VARIABLE

log = logging.getLogger(__name__)

WARM_KERNEL = "python3"


def kernels_to_warm(environ: Mapping[str, str] = os.environ) -> list[str]:
    """The kernelspecs a worker boots spares of when it starts."""
    names = [n.strip() for n in environ.get(WARM_KERNELS_VARIABLE, "").split(",")]
    return [n for n in names if n] or [WARM_KERNEL]


class NotebookHandler:
    """``Handler`` for kind ``notebook``."""

    kind = "notebook"

    def __init__(self, executor: Executor | None = None) -> None:
        self._executor = executor
        self._owns_executor = executor is None
        self._identities: dict[str, str] = {}  # kernelspec -> this host's kernel identity

    def start(self) -> None:
        """Boot spare kernels (``kernels_to_warm``; ConfigurationError if python3 is among
        them and missing) and, while they boot, warm the HTML exporter, so the first job
        pays for neither. Another missing kernel is the build's to report (once, from its
        plan), not a reason for the worker not to start; nor is a course environment
        without ipykernel (the build reports that once, and this worker still serves the
        other languages)."""
        if self._executor is None:
            self._executor = Executor()
        python = os.environ.get(COURSE_PYTHON_VARIABLE) or None
        preload = [m for m in os.environ.get(PRELOAD_VARIABLE, "").split(",") if m]
        for name in kernels_to_warm():
            try:
                if name == WARM_KERNEL:
                    self._executor.warm(name, python, preload)
                else:
                    self._executor.warm(name)
            except NoIpykernel as e:
                log.warning("no warm python3 kernel: %s", e)
            except KernelMissing:
                if name == WARM_KERNEL:
                    raise
                log.info("no kernel %s to warm", name)
        warm_html()

    def run(self, job: JobView) -> Outcome:
        payload = NotebookJobPayload.from_dict(job.payload)
        if payload.execute:
            self._same_kernel_as_planned(payload, job.payload.get("kernel"))
        blobs = job.input_blobs()
        if blobs is None:
            raise InfrastructureError("notebook job without a blob store to read its inputs")
        source = NotebookSource(
            path=payload.source_path,
            text=payload.text,
            prog_lang=payload.prog_lang,
            notebook_dir=payload.notebook_dir,
            topic_files=MappingProxyType(_read_blobs(blobs, payload.topic_files, payload)),
            course_templates=MappingProxyType(
                {
                    name: data.decode("utf-8")
                    for name, data in _read_blobs(blobs, payload.course_templates, payload).items()
                }
            ),
        )
        settings = NotebookSettings(
            author={payload.lang: payload.author},
            organization={payload.lang: payload.organization},
            cell_timeout=payload.cell_timeout,
            kernel_retries=payload.kernel_retries,
            assets_href=payload.assets_href,
            max_output_bytes=payload.max_output_bytes,
            execute=payload.execute,
            allow_errors=payload.allow_errors,
            python=payload.python or os.environ.get(COURSE_PYTHON_VARIABLE, ""),
            preload=tuple(payload.preload),
        )
        variants = [Variant.parse(label) for label in payload.outputs]
        if self._executor is None:
            self.start()
        result = render_language(
            source, payload.lang, variants, payload.page_title, settings, self._executor
        )
        files = {payload.outputs[v.label]: data for v, data in result.outputs.items()}
        return Outcome(
            files=files,
            problems=list(result.problems),
            info={
                "templates_used": result.templates_used,
                "executions": result.executions,
                "modules": result.modules,
            },
        )

    def _same_kernel_as_planned(self, payload: NotebookJobPayload, planned: object) -> None:
        """The build put the identity of its own Java or Deno kernel into the job's cache
        key; a worker on another host whose kernel differs would have its output cached
        under that key. Such a job fails with both versions named instead. (A Python
        job names its interpreter, which the worker runs, so it is not checked here.)"""
        if not isinstance(planned, str) or not planned:
            return
        name = LANGUAGES[payload.prog_lang].kernel_name
        own = self._identities.get(name)
        if own != planned:  # asked again on a difference: it may be upgraded meanwhile
            own = self._identities[name] = str(kernel_identity(name))
        if own != planned:
            raise ConfigurationError(
                f"{payload.source_path}: the build planned this notebook for its {planned},"
                f" but this worker ({socket.gethostname()}) has "
                f"{own or f'no {name} kernel'}; its output would be cached as the other"
                " kernel's: install the same kernel version on every worker host"
            )

    def stop(self) -> None:
        if self._executor is not None and self._owns_executor:
            self._executor.close()
            self._executor = None


def _read_blobs(
    blobs: BlobStore, digests: Mapping[str, str], payload: NotebookJobPayload
) -> dict[str, bytes]:
    found: dict[str, bytes] = {}
    for name, digest in digests.items():
        try:
            found[name] = blobs.get(digest)
        except OSError as exc:
            raise InfrastructureError(
                f"{payload.source_path}: input '{name}' ({digest[:12]}) is missing from the blob"
                f" store: {exc}"
            ) from exc
    return found
