from __future__ import annotations

import shutil
from pathlib import Path

import pytest

DEMO = Path(__file__).resolve().parents[2] / "examples" / "demo-course"


@pytest.fixture
def demo_copy(tmp_path: Path) -> Path:
    """A private copy of the example course (builds write .clx/ into the course root)."""
    dest = tmp_path / "demo-course"
    shutil.copytree(DEMO, dest, ignore=shutil.ignore_patterns(".clx", "output"))
    return dest
