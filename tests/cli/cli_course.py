"""Tiny generated courses and a way to run the real CLI as a subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SCHEMA = Path(__file__).resolve().parents[2] / "docs" / "build-report.schema.json"

SPEC = """<course>
  <name><de>Kurs</de><en>Course</en></name>
  <prog-lang>python</prog-lang>
  <sections>
    <section><name><de>Teil Eins</de><en>Part One</en></name>
      <topics>{topics}</topics></section>
    <section><name><de>Teil Zwei</de><en>Part Two</en></name>
      <topics><topic>later</topic></topics></section>
  </sections>
</course>
"""


def notebook(de: str, en: str, code: str | None = None) -> str:
    """A notebook; without ``code`` it has no code cell, so no kernel ever runs it."""
    text = f'# j2 from \'macros.j2\' import header\n# {{{{ header("{de}", "{en}") }}}}\n\n'
    text += "# %% [markdown]\n# Some text.\n"
    if code is not None:
        text += f"\n# %%\n{code}\n"
    return text


PU = "@startuml\nAlice -> Bob: hi\n@enduml\n"


class Course:
    def __init__(self, root: Path, env: dict[str, str]) -> None:
        self.root = root
        self.spec = root / "course-specs" / "c.xml"
        self.env = env
        self.out = root / "output"

    def clx(self, *args: str, timeout: float = 120, **kw) -> subprocess.CompletedProcess:
        env = dict(self.env, **kw.pop("env", {}))
        return subprocess.run(
            [sys.executable, "-m", "clx.cli.main", *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            env=env,
            **kw,
        )

    def popen(self, *args: str, **kw) -> subprocess.Popen:
        return subprocess.Popen(
            [sys.executable, "-m", "clx.cli.main", *args],
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            **kw,
        )


def plain_course(make_course, **extra: str) -> Course:
    return make_course(
        {
            "slides/m_100/topic_100_first/slides_first.py": notebook("Erstens", "First"),
            "slides/m_100/topic_200_second/slides_second.py": notebook("Zweitens", "Second"),
            **extra,
        }
    )


def validate_report(text: str) -> dict:
    import jsonschema

    doc = json.loads(text)
    jsonschema.validate(doc, json.loads(SCHEMA.read_text()))
    return doc


def run_on_terminal(course: Course, *args: str, timeout: float = 120) -> tuple[int, str, str]:
    """Run the CLI with stderr on a pseudo-terminal (what a user sees) and stdout on a pipe.

    Returns (exit status, stdout, raw terminal bytes decoded).
    """
    import os
    import pty
    import select
    import time

    master, slave = pty.openpty()
    env = dict(course.env, TERM="xterm-256color", COLUMNS="120")
    proc = subprocess.Popen(
        [sys.executable, "-m", "clx.cli.main", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=slave,
        text=True,
    )
    os.close(slave)
    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.2)
            if ready:
                try:
                    data = os.read(master, 65536)
                except OSError:  # the child closed the terminal
                    break
                if not data:
                    break
                chunks.append(data)
            elif proc.poll() is not None:
                break
        stdout = proc.stdout.read() if proc.stdout else ""
        proc.wait(timeout=10)
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()
    return proc.returncode, stdout, b"".join(chunks).decode("utf-8", "replace")
