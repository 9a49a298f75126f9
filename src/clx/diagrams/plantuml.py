"""PlantUML text → PNG or SVG bytes through warm ``-pipe`` JVMs.

The renderer owns at most one JVM per output format (``-t`` is fixed per JVM), started
on first use. Graphviz is checked once at start with ``-testdot`` because PlantUML
does not fail without it: it silently switches to another layout engine.

Failures are sorted by who has to act: a diagram PlantUML rejects is a ContentError
(with the source line); a dead, stuck or confused JVM is an InfrastructureError after
which the JVM is replaced, so a retry meets a fresh one.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

from clx.diagrams.plantuml_pipe import FORMATS, PipeBroken, PipeJvm, jvm_command
from clx.diagrams.plantuml_source import split_blocks
from clx.diagrams.rendered import Rendered, content_error, warning
from clx.diagrams.tools import PlantUmlTools, locate_plantuml_tools
from clx.problems import (
    Category,
    ConfigurationError,
    InfrastructureError,
    Problem,
    strip_ansi,
)

# Exercises the common path (classes, relations, a note, Graphviz) so that the JIT has
# seen it before the first real job.
WARM_UP_DIAGRAM = """@startuml
interface Quelle
class Lesen {
  +text: str
}
class Bild
Quelle <|.. Lesen
Lesen --> Bild : erzeugt
note right of Bild : warm
@enduml
"""


class PlantUmlRenderer:
    """``start()`` / ``render(text, fmt)`` / ``stop()``; also a context manager.

    ``timeout`` bounds one answer (including a JVM start on first use);
    ``max_heap`` caps each JVM (512m is plenty: a warm JVM holds ≈230 MB).
    """

    def __init__(
        self,
        tools: PlantUmlTools | None = None,
        *,
        timeout: float = 60.0,
        max_heap: str = "512m",
    ) -> None:
        self.tools = tools
        self.timeout = timeout
        self.max_heap = max_heap
        self._jvms: dict[str, PipeJvm] = {}
        self._workdir: Path | None = None
        self.restarts = 0  # JVMs replaced after a failure (for logs and tests)

    # -- lifecycle -------------------------------------------------------------------

    def start(self) -> None:
        """Locate the tools and prove Graphviz works; ConfigurationError otherwise."""
        if self.tools is None:
            self.tools = locate_plantuml_tools()
        self._check_graphviz()
        if self._workdir is None:
            # The JVMs' working directory: relative !include paths resolve here, and
            # nothing PlantUML might write lands in the caller's folder.
            self._workdir = Path(tempfile.mkdtemp(prefix="clx-plantuml-"))

    def warm(self, fmt: str = "png") -> None:
        """Start the JVM for ``fmt`` and have it render a trivial diagram."""
        self.render(WARM_UP_DIAGRAM, fmt)

    def stop(self) -> None:
        for jvm in self._jvms.values():
            jvm.close()
        self._jvms.clear()
        if self._workdir is not None:
            shutil.rmtree(self._workdir, ignore_errors=True)
            self._workdir = None

    def __enter__(self) -> PlantUmlRenderer:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def versions(self) -> dict[str, str]:
        tools = self.tools or locate_plantuml_tools()
        return tools.versions()

    def jvm_pid(self, fmt: str) -> int | None:
        jvm = self._jvms.get(fmt)
        return jvm.pid if jvm else None

    # -- rendering -------------------------------------------------------------------

    def render(self, source_text: str, fmt: str = "png") -> Rendered:
        if fmt not in FORMATS:
            raise ValueError(f"unknown PlantUML output format {fmt!r}; use one of {FORMATS}")
        blocks = split_blocks(source_text)
        warnings: tuple[Problem, ...] = ()
        if blocks.count > 1:
            later = ", ".join(str(n) for n in blocks.later_lines)
            warnings = (
                warning(
                    f"{blocks.count} diagrams in one PlantUML file; only the first is rendered"
                    f" (ignored blocks start on line {later})",
                    line=blocks.later_lines[0],
                ),
            )
        jvm = self._jvm(fmt)
        try:
            answer = jvm.ask(blocks.first.text.encode("utf-8"), self.timeout)
        except PipeBroken as e:
            self._replace(fmt)
            raise InfrastructureError(f"PlantUML JVM failed ({fmt}): {e}") from e
        if answer.startswith(b"ERROR\n"):
            raise self._syntax_error(answer, blocks.source_line)
        if not _looks_like(fmt, answer):
            self._replace(fmt)
            head = answer[:60].decode("latin-1")
            raise InfrastructureError(f"PlantUML JVM gave an unexpected answer ({fmt}): {head!r}")
        return Rendered(answer, warnings)

    def _jvm(self, fmt: str) -> PipeJvm:
        if self._workdir is None or self.tools is None:
            self.start()
        jvm = self._jvms.get(fmt)
        if jvm is None:
            assert self.tools is not None and self._workdir is not None
            args = jvm_command(self.tools.java, self.tools.jar, fmt, max_heap=self.max_heap)
            jvm = PipeJvm(args, env=self._jvm_env(), cwd=self._workdir)
            jvm.start()
            self._jvms[fmt] = jvm
        elif not jvm.running:
            self._replace(fmt)
        return self._jvms[fmt]

    def _replace(self, fmt: str) -> None:
        """Kill the JVM for ``fmt`` and start a fresh one right away (it warms meanwhile)."""
        jvm = self._jvms[fmt]
        jvm.kill()
        jvm.start()
        self.restarts += 1

    def _jvm_env(self) -> dict[str, str]:
        assert self.tools is not None
        env = dict(os.environ)
        # Pin the dot that was located (PlantUML otherwise probes fixed paths itself).
        env["GRAPHVIZ_DOT"] = str(self.tools.dot)
        return env

    def _syntax_error(self, answer: bytes, to_source_line: Callable[[int], int]) -> Exception:
        parts = answer.decode("utf-8", "replace").split("\n", 2)
        message = strip_ansi(parts[2].strip()) if len(parts) > 2 else ""
        line = None
        with contextlib.suppress(IndexError, ValueError):
            line = to_source_line(int(parts[1].strip()))
        return content_error(f"PlantUML: {message or 'syntax error'}", line=line)

    def _check_graphviz(self) -> None:
        assert self.tools is not None
        args = [str(self.tools.java), "-Djava.awt.headless=true"]
        args += ["-jar", str(self.tools.jar), "-testdot"]
        try:
            out = subprocess.run(
                args,
                capture_output=True,
                text=True,
                timeout=max(self.timeout, 30.0),
                env=self._jvm_env(),
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as e:
            raise _config_error(f"cannot run PlantUML's Graphviz check: {e}") from e
        report = (out.stdout + out.stderr).strip()
        if "Installation seems OK" not in report:
            raise _config_error(
                f"PlantUML cannot use Graphviz at {self.tools.dot}: "
                f"{' '.join(report.split()) or f'exit code {out.returncode}'}; install it with: "
                "apt-get install --no-install-recommends graphviz"
            )


def _looks_like(fmt: str, data: bytes) -> bool:
    if fmt == "png":
        return data.startswith(b"\x89PNG\r\n\x1a\n")
    head = data[:200].lstrip()
    return head.startswith(b"<svg") or head.startswith(b"<?xml")


def _config_error(message: str) -> ConfigurationError:
    return ConfigurationError(message, [Problem(message=message, category=Category.CONFIGURATION)])
