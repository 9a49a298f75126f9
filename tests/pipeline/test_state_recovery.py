"""A damaged state database (.clx/cache.db, .clx/clx.db) is moved aside, not fatal."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from clxtest import TWO_TOPICS_SPEC, write_tree

MARKDOWN = """# j2 from 'macros.j2' import header
# {{{{ header("{de}", "{en}") }}}}

# %% [markdown]
# Text without code: no kernel has to start.
"""


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Path, dict[str, bytes]]:
    """A course built once; returns its spec and the bytes of every output."""
    root = write_tree(
        tmp_path_factory.mktemp("recovery") / "course",
        {
            "course-specs/c.xml": TWO_TOPICS_SPEC,
            "slides/m_1/topic_100_alpha/slides_alpha.py": MARKDOWN.format(de="A", en="A"),
            "slides/m_1/topic_200_beta/slides_beta.py": MARKDOWN.format(de="B", en="B"),
        },
    )
    spec = root / "course-specs" / "c.xml"
    r = clx("build", str(spec))
    assert r.returncode == 0, r.stderr
    return spec, outputs(root)


def clx(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "clx.cli.main", *args], capture_output=True, text=True, timeout=240
    )


def outputs(root: Path) -> dict[str, bytes]:
    out = root / "output"
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*") if p.is_file()}


def damage_lines(stderr: str, db: str) -> list[str]:
    return [line for line in stderr.splitlines() if db in line and "moved aside" in line]


def check_recovered(spec: Path, before: dict[str, bytes], db: str) -> None:
    root = spec.parents[1]
    r = clx("build", str(spec))
    assert r.returncode == 0, r.stderr
    assert "Traceback" not in r.stderr
    assert len(damage_lines(r.stderr, db)) == 1, r.stderr
    assert list((root / ".clx").glob(f"{db}.damaged-*")), "the damaged file is kept"
    assert outputs(root) == before
    for p in (root / ".clx").glob(f"{db}.damaged-*"):
        p.unlink()
    r = clx("build", str(spec))  # and the fresh database works from then on
    assert r.returncode == 0 and not damage_lines(r.stderr, db), r.stderr


@pytest.mark.parametrize("db", ["cache.db", "clx.db"])
def test_a_file_that_is_not_a_database(built, db: str) -> None:
    spec, before = built
    state = spec.parents[1] / ".clx"
    for suffix in ("-wal", "-shm"):
        (state / f"{db}{suffix}").unlink(missing_ok=True)
    (state / db).write_bytes(b"this is not an SQLite file, just some text\n" * 100)
    check_recovered(spec, before, db)


def test_a_malformed_cache_database(built) -> None:
    spec, before = built
    path = spec.parents[1] / ".clx" / "cache.db"
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    page = conn.execute("PRAGMA page_size").fetchone()[0]
    conn.close()
    data = bytearray(path.read_bytes())
    assert len(data) >= 3 * page
    data[page : 3 * page] = b"\xa5" * (2 * page)  # pages 2 and 3 are garbage
    path.write_bytes(bytes(data))
    check_recovered(spec, before, "cache.db")


def test_a_newer_schema(built) -> None:
    spec, before = built
    conn = sqlite3.connect(spec.parents[1] / ".clx" / "cache.db")
    conn.execute("UPDATE schema_version SET version = 99")
    conn.commit()
    conn.close()
    check_recovered(spec, before, "cache.db")


def test_cache_clear_on_a_damaged_database(built) -> None:
    spec, _ = built
    state = spec.parents[1] / ".clx"
    (state / "cache.db").write_bytes(b"\x00garbage" * 512)
    r = clx("cache", "clear", str(spec))
    assert r.returncode == 0, r.stderr
    assert "Traceback" not in r.stderr
    assert len(damage_lines(r.stderr, "cache.db")) == 1, r.stderr
    for p in state.glob("cache.db.damaged-*"):
        p.unlink()
