"""An output tree that cannot be written: errors name the output file, the manifest write
fails cleanly, the summary is printed, exit 1, and the next build on a healthy tree is right."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from clxtest import TWO_TOPICS_SPEC, write_tree

MARKDOWN = """# j2 from 'macros.j2' import header
# {{{{ header("{de}", "{en}") }}}}

# %% [markdown]
# Text without code: no kernel has to start.
"""


def build(spec: Path, out: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "clx.cli.main", "build", str(spec), "--output-dir", str(out)],
        capture_output=True,
        text=True,
        timeout=240,
    )


def test_unwritable_output_tree(tmp_path: Path) -> None:
    root = write_tree(
        tmp_path / "course",
        {
            "course-specs/c.xml": TWO_TOPICS_SPEC,
            "slides/m_1/topic_100_alpha/slides_alpha.py": MARKDOWN.format(de="A", en="A"),
            "slides/m_1/topic_100_alpha/data.csv": "1\n",
            "slides/m_1/topic_200_beta/slides_beta.py": MARKDOWN.format(de="B", en="B"),
        },
    )
    spec = root / "course-specs" / "c.xml"
    out = tmp_path / "out"
    # The public tree cannot be created (a file is in the way, as on a broken mount) and
    # the manifest cannot be replaced (a folder has its name).
    out.mkdir()
    (out / "public").write_text("in the way")
    (out / ".clx-manifest.json").mkdir()
    (out / ".clx-manifest.json" / "keep").write_text("x")
    r = build(spec, out)
    assert r.returncode == 1, r.stderr
    assert "Traceback" not in r.stderr, r.stderr
    assert ".tmp" not in r.stderr, r.stderr
    errors = [line for line in r.stderr.splitlines() if line.startswith("error:")]
    public = str(out / "public")
    assert any(f"{public}/De/" in e and "/01 A.html: " in e for e in errors), r.stderr
    assert any(f"{public}/De/Kurs/Folien/Html/Completed/Teil/data.csv" in e for e in errors)
    assert any(".clx-manifest.json" in e and "manifest" in e for e in errors), r.stderr
    assert "WARNING clx" not in r.stderr, r.stderr
    assert any(line.startswith("build 1") for line in r.stderr.splitlines()), r.stderr
    assert (out / "speaker/De/Kurs/Folien/Html/Speaker/Teil/data.csv").is_file()

    (out / "public").unlink()
    shutil.rmtree(out / ".clx-manifest.json")
    r = build(spec, out)
    assert r.returncode == 0, r.stderr
    manifest = json.loads((out / ".clx-manifest.json").read_text())["specs"]["course-specs/c.xml"]
    on_disk = sorted(
        p.relative_to(out).as_posix()
        for p in out.rglob("*")
        if p.is_file() and p.name != ".clx-manifest.json"
    )
    assert manifest == on_disk
    assert "public/De/Kurs/Folien/Html/Completed/Teil/01 A.html" in manifest
    assert "public/En/Course/Slides/Html/Completed/Part/data.csv" in manifest
