"""One PlantUML JVM in ``-pipe`` mode, spoken to one diagram at a time.

A JVM start costs about a second, a warm pipe answer 0.03–0.07 s, so the JVM lives as
long as the worker. The protocol is simple but unforgiving: each diagram block gets
one answer followed by a delimiter and a newline; any loss of step (a crash, a
timeout, an unexpected answer) means the JVM must be thrown away.

Reading and writing go through one ``selectors`` loop with a deadline, so a JVM that
stops answering can never block the worker.
"""

from __future__ import annotations

import contextlib
import os
import selectors
import subprocess
import time
from pathlib import Path

from clx.processes import kill_tree, popen

# Long and unlike anything in PNG or SVG data.
DELIMITER = b"___CLX_PLANTUML_ANSWER_END_7f3a9c2e___"
FORMATS = ("png", "svg")


class PipeBroken(Exception):
    """The JVM died, closed its output or did not answer in time."""


def jvm_command(java: Path, jar: Path, fmt: str, *, max_heap: str = "512m") -> list[str]:
    args = [
        str(java),
        f"-Xmx{max_heap}",
        # On 2 shared cores G1's concurrent threads compete with the render itself;
        # the serial collector made the first 20 diagrams ~30 % faster (same output).
        "-XX:+UseSerialGC",
        "-Djava.awt.headless=true",
        "-DPLANTUML_LIMIT_SIZE=8192",
        "-jar",
        str(jar),
        "-pipe",
        "-pipeNoStderr",
        "-pipedelimitor",
        DELIMITER.decode(),
        "-charset",
        "UTF-8",
        f"-t{fmt}",
    ]
    if fmt == "png":
        args.append("-Sdpi=200")
    return args


class PipeJvm:
    def __init__(self, args: list[str], *, env: dict[str, str], cwd: Path) -> None:
        self.args = args
        self._env = env
        self._cwd = cwd
        self._proc: subprocess.Popen | None = None
        self._drop_newline = False  # the newline after the previous delimiter is still unread
        self._buffer = b""

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self) -> None:
        self._proc = popen(
            self.args,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=self._env,
            cwd=self._cwd,
        )
        assert self._proc.stdin is not None and self._proc.stdout is not None
        os.set_blocking(self._proc.stdin.fileno(), False)
        os.set_blocking(self._proc.stdout.fileno(), False)
        self._drop_newline = False
        self._buffer = b""

    def ask(self, request: bytes, timeout: float) -> bytes:
        """Send one diagram block, return the bytes before the next delimiter."""
        if self._proc is None:
            self.start()
        proc = self._proc
        assert proc is not None and proc.stdin is not None and proc.stdout is not None
        in_fd, out_fd = proc.stdin.fileno(), proc.stdout.fileno()
        deadline = time.monotonic() + timeout
        sent = 0
        with selectors.DefaultSelector() as sel:
            sel.register(in_fd, selectors.EVENT_WRITE)
            sel.register(out_fd, selectors.EVENT_READ)
            while True:
                answer = self._take_answer()
                if answer is not None:
                    return answer
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise PipeBroken(f"no answer within {timeout:g} s")
                for key, _ in sel.select(remaining):
                    if key.fd == in_fd:
                        try:
                            sent += os.write(in_fd, request[sent : sent + 65536])
                        except BlockingIOError:
                            continue
                        except OSError as e:  # BrokenPipeError: the JVM is gone
                            raise PipeBroken(f"cannot write to the JVM: {e}") from e
                        if sent >= len(request):
                            sel.unregister(in_fd)
                    else:
                        try:
                            chunk = os.read(out_fd, 1 << 20)
                        except BlockingIOError:
                            continue
                        if not chunk:
                            raise PipeBroken(f"the JVM closed its output (exit code {proc.poll()})")
                        self._buffer += chunk

    def _take_answer(self) -> bytes | None:
        if self._drop_newline and self._buffer:
            if self._buffer.startswith(b"\n"):
                self._buffer = self._buffer[1:]
            self._drop_newline = False
        end = self._buffer.find(DELIMITER)
        if end < 0:
            return None
        answer = self._buffer[:end]
        self._buffer = self._buffer[end + len(DELIMITER) :]
        self._drop_newline = True
        if self._buffer:
            self._take_newline_now()
        return answer

    def _take_newline_now(self) -> None:
        if self._buffer.startswith(b"\n"):
            self._buffer = self._buffer[1:]
        self._drop_newline = False

    def close(self) -> None:
        """Let the JVM exit on end of input; kill its tree if it lingers."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        with contextlib.suppress(OSError):
            proc.stdin.close()  # type: ignore[union-attr]
        try:
            proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            kill_tree(proc.pid)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=2)
        with contextlib.suppress(OSError):
            proc.stdout.close()  # type: ignore[union-attr]

    def kill(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        kill_tree(proc.pid, timeout=1.0)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=2)
        for stream in (proc.stdin, proc.stdout):
            with contextlib.suppress(OSError):
                stream.close()  # type: ignore[union-attr]
