"""Shared fixtures: one executor (warm kernels) for the whole session keeps it fast."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator

import nbformat
import pytest

from clx.course.variants import Variant
from clx.notebooks import Executor, NotebookSettings

SETTINGS = NotebookSettings(
    author={"de": "Ada Lovelace", "en": "Ada Lovelace"},
    organization={"de": "Beispiel-Akademie", "en": "Example Academy"},
    cell_timeout=30,
)


class Read:
    """Reading outputs back, independently of the engine's own code."""

    @staticmethod
    def cell_id(source: str) -> str:
        """The id rule of docs/course-reference.md#cell-ids."""
        return hashlib.sha3_224(source.encode("utf-8")).hexdigest()[:16]

    @staticmethod
    def ipynb(data: bytes) -> dict:
        nb = json.loads(data)
        nbformat.validate(nbformat.from_dict(nb))
        return nb

    @staticmethod
    def ipynb_cells(data: bytes) -> list[tuple[str, str]]:
        return [(c["cell_type"], "".join(c["source"])) for c in Read.ipynb(data)["cells"]]

    @staticmethod
    def html_cell_ids(data: bytes) -> list[str]:
        return re.findall(r'id="cell-id=([0-9a-f]+)"', data.decode("utf-8"))

    @staticmethod
    def by_label(outputs: dict[Variant, bytes]) -> dict[str, bytes]:
        return {v.label: b for v, b in outputs.items()}


@pytest.fixture(scope="session")
def executor() -> Iterator[Executor]:
    with Executor() as ex:
        ex.warm("python3")
        yield ex


@pytest.fixture(scope="session")
def read() -> type[Read]:
    return Read


@pytest.fixture(scope="session")
def settings() -> NotebookSettings:
    return SETTINGS
