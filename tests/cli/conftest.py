"""The ``make_course`` fixture; helpers live in cli_course.py."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

# The suite runs with --import-mode=importlib: make cli_course importable.
sys.path.insert(0, str(Path(__file__).parent))

from cli_course import SPEC, Course, notebook  # noqa: E402

from clxtest import write_tree  # noqa: E402


@pytest.fixture
def make_course(tmp_path: Path):
    """make_course(files, topics=...) -> Course, with its own empty user config folder."""
    config_home = tmp_path / "xdg-config"
    config_home.mkdir()
    env = dict(os.environ, XDG_CONFIG_HOME=str(config_home), PYTHONUNBUFFERED="1")
    env.pop("PLANTUML_JAR", None)

    def make(
        files: dict[str, str],
        topics: str = "<topic>first</topic><topic>second</topic>",
        name: str = "course",
    ) -> Course:
        root = write_tree(
            tmp_path / name,
            {
                "course-specs/c.xml": SPEC.format(topics=topics),
                "slides/m_100/topic_900_later/slides_later.py": notebook("Später", "Later"),
                **files,
            },
        )
        return Course(root, env)

    return make
