from __future__ import annotations

from pathlib import Path

import pytest

from clxtest import SPEC, header, write_tree


@pytest.fixture
def course_tree(tmp_path: Path) -> Path:
    return write_tree(tmp_path / "course", {
        "course-specs/c.xml": SPEC.format(dir_groups=""),
        "slides/module_100_basics/topic_100_intro/slides_intro.py": header("Einführung", "Introduction"),
        "slides/module_100_basics/topic_100_intro/slides_more.py": header("Mehr", "More"),
        "slides/module_100_basics/topic_100_intro/helpers.py": "def f(): return 1\n",
        "slides/module_100_basics/topic_100_intro/data/sales.csv": "a,b\n1,2\n",
        "slides/module_100_basics/topic_100_intro/pu/flow.pu": "@startuml\nA -> B\n@enduml\n",
        "slides/module_100_basics/topic_100_intro/img/flow.png": b"stale",
        "slides/module_100_basics/topic_110_extra/slides_extra.py": header("Was ist OOP?", "What is OOP?"),
        "slides/module_200_loops/topic_200_loops.py": (
            "import math, loop_tools as lt\nfrom numpy import array\nfrom .rel import x\n"
            + header("Schleifen", "Loops")
            + "# <img src='img/loop.png'> <img src=\"img/missing.png\">\n"
        ),
        "slides/module_200_loops/loop_tools.py": "def g(): pass\n",
        "slides/module_200_loops/other.csv": "not part of the file topic\n",
        "slides/module_200_loops/img/loop.png": b"png",
    })
