"""docs/tutorial.md, done as a reader would: every file it shows is written, every
command it shows is run, and every output it lists must exist afterwards.

The page marks its steps with HTML comments, invisible on GitHub and in the site, each
directly before a fenced block:

* ``<!-- file: PATH -->``: write the block to PATH (relative to the working folder);
* ``<!-- run -->`` or ``<!-- run, expect: TEXT -->``: run the block with bash, which must
  succeed (and print TEXT);
* ``<!-- expect-files -->``: each line of the block is a file that must exist now.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

PAGE = Path(__file__).resolve().parents[2] / "docs" / "tutorial.md"
_STEP = re.compile(
    r"^<!-- (?P<what>file: (?P<path>\S+)|run(?:, expect: (?P<expect>.+?))?|expect-files) -->\n"
    r"```[\w-]*\n(?P<body>.*?)^```$",
    re.MULTILINE | re.DOTALL,
)


def steps(text: str) -> list[re.Match[str]]:
    return list(_STEP.finditer(text))


def test_the_page_has_its_steps() -> None:
    """Guards the markers: a typo in one would silently drop a step from the test."""
    text = PAGE.read_text(encoding="utf-8")
    found = steps(text)
    assert len(found) == text.count("<!-- "), "a step marker does not precede a fenced block"
    kinds = [m["what"].split(":")[0].split(",")[0] for m in found]
    assert kinds.count("file") >= 5 and kinds.count("run") >= 4 and "expect-files" in kinds


@pytest.mark.slow
def test_tutorial_steps_work(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    shim = bin_dir / "clx"  # the clx of this checkout, whatever is installed
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m clx.cli.main "$@"\n')
    shim.chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    env.pop("XDG_CONFIG_HOME", None)
    env["HOME"] = str(tmp_path)  # no user clx.toml of the machine running the test
    work = tmp_path / "work"
    work.mkdir()
    for m in steps(PAGE.read_text(encoding="utf-8")):
        body = m["body"]
        if m["path"]:
            target = work / m["path"]
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(body, encoding="utf-8")
        elif m["what"].startswith("run"):
            r = subprocess.run(
                ["bash", "-euo", "pipefail", "-c", body],
                cwd=work,
                env=env,
                capture_output=True,
                text=True,
                timeout=600,
            )
            out = r.stdout + r.stderr
            assert r.returncode == 0, f"tutorial step failed:\n{body}\n{out}"
            if m["expect"]:
                assert m["expect"] in out, f"tutorial step did not print {m['expect']!r}:\n{out}"
        else:
            missing = [line for line in body.splitlines() if not (work / line).is_file()]
            assert not missing, f"the tutorial promises files the build did not make: {missing}"
