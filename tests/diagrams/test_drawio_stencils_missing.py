"""A stencil library the page cannot load: every diagram using it says so.

Its own module: one Playwright per process at a time, and the renderer of
test_drawio_stencils.py lives as long as its module.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest
from test_drawio_stencils import SHAPES, stencil_diagram

from clx.diagrams.drawio import DrawioRenderer
from clx.diagrams.tools import locate_drawio_tools


@pytest.fixture(scope="module")
def without_stencils(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DrawioRenderer]:
    empty = tmp_path_factory.mktemp("no-stencils")
    tools = dataclasses.replace(locate_drawio_tools(), stencils_dir=empty)
    with DrawioRenderer(tools) as renderer:
        yield renderer


def test_a_library_the_page_cannot_load_names_the_shapes(without_stencils) -> None:
    """Every diagram that uses the library says so, not only the first (draw.io asks
    for a library file once per page)."""
    for _ in range(2):
        rendered = without_stencils.render(stencil_diagram(SHAPES[:2]), "png")
        messages = sorted(w.message for w in rendered.warnings)
        assert len(messages) == 2, messages
        assert "'mxgraph.aws4.lambda_function'" in messages[0]
        assert "stencils/aws4.xml (HTTP 404)" in messages[0]
        assert "'mxgraph.kubernetes.api'" in messages[1]
        assert "stencils/kubernetes.xml (HTTP 404)" in messages[1]
