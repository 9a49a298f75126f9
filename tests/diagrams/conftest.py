"""Real tools, started once per test module: a JVM start costs ~1 s, a browser ~2 s."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from clx.diagrams.drawio import DrawioRenderer
from clx.diagrams.plantuml import PlantUmlRenderer

# The suite runs with --import-mode=importlib; make diagram_samples importable
# (the benchmark imports it too).
sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture(scope="module")
def plantuml() -> Iterator[PlantUmlRenderer]:
    with PlantUmlRenderer() as renderer:
        yield renderer


@pytest.fixture(scope="module")
def drawio() -> Iterator[DrawioRenderer]:
    with DrawioRenderer() as renderer:
        yield renderer
