"""Cache clean-up: what goes, what must stay, and that the next build still restores."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import jsonschema

from clx.cli.reporting import report_json
from clx.dbconnect import connect
from clx.pipeline.cache import _SCHEMA, BuildCache
from clx.pipeline.cache_gc import DAY, clear, prune, running_builds
from clx.pipeline.progress import SilentProgress
from clx.pipeline.run import BuildOptions, build
from clx.queue.sqlite import SqliteQueue
from clx.store import BlobStore
from clxtest import TWO_TOPICS_SPEC, write_tree

SCHEMA = Path(__file__).resolve().parents[2] / "docs" / "build-report.schema.json"


def _record(cache: BuildCache, key: str, data: dict[str, bytes], now: float) -> None:
    paths = {label: f"/out/{key}/{label}" for label in data}
    cache.record(key, "notebook", "succeeded", data, [], {}, "src.py", paths, now=now)


def _age(path: Path, mtime: float) -> None:
    os.utime(path, (mtime, mtime))


def _blob_names(root: Path) -> set[str]:
    return {p.name for p in root.rglob("*") if p.is_file()}


def test_schema_step_stamps_existing_entries_with_their_creation_time(tmp_path: Path) -> None:
    state = tmp_path / ".clx"
    old = connect(state / "cache.db", _SCHEMA[:1], name="cache")  # a cache of the first schema
    old.execute(
        "INSERT INTO entries VALUES ('k', 'notebook', 'succeeded', '{}', '[]', '{}', 's.py', "
        "'2024-03-01T10:00:00+00:00')"
    )
    old.close()
    with BuildCache(state) as cache:
        assert cache.get("k") is not None
    used = sqlite3.connect(state / "cache.db").execute("SELECT used_at FROM entries").fetchone()
    assert used == (1709287200.0,)


def test_prune_keeps_planned_recent_and_referenced_blobs(tmp_path: Path) -> None:
    now = time.time()
    state = tmp_path / ".clx"
    with BuildCache(state) as cache:
        _record(cache, "old", {"html": b"old output"}, now - 20 * DAY)
        _record(cache, "planned", {"html": b"planned output"}, now - 20 * DAY)
        _record(cache, "recent", {"html": b"shared output"}, now - 1 * DAY)
        # An old entry whose output bytes a recent entry shares: the blob must stay.
        _record(cache, "old-shared", {"html": b"shared output"}, now - 30 * DAY)
        _record(cache, "hit", {"html": b"hit output"}, now - 30 * DAY)
        cache.remember_paths("hit", {"html": "/out/hit/html"}, now=now - 2 * DAY)  # a hit
        blobs = BlobStore(state / "blobs")
        digest = {name: blobs.put(name.encode()) for name in ("input", "orphan", "fresh")}
        for p in (state / "blobs").rglob("*"):
            if p.is_file():
                _age(p, now - 3 * DAY)
        _age(blobs.path(digest["fresh"]), now + 5)  # written by a build that started later
        old_tmp = blobs.path(digest["input"]).parent / ".x.abc.tmp"
        young_tmp = blobs.path(digest["input"]).parent / ".y.abc.tmp"
        for tmp, mtime in ((old_tmp, now - 2 * 3600), (young_tmp, now - 60)):
            tmp.write_bytes(b"half written")
            _age(tmp, mtime)
        old_blob = blobs.path(cache.get("old").outputs["html"])

        result = prune(
            cache,
            now=now,
            keep_days=14,
            blob_cutoff=now,
            plan_keys={"planned"},
            plan_inputs={digest["input"]},
        )

        assert (result.entries, result.blobs, result.files) == (2, 2, 1)
        assert result.bytes == len(b"old output") + len(b"orphan") + len(b"half written")
        assert {k for k in ("old", "planned", "recent", "old-shared", "hit") if cache.get(k)} == {
            "planned",
            "recent",
            "hit",
        }
        assert cache.key_for_path("/out/old/html") is None  # remembered paths go with it
        assert cache.key_for_path("/out/recent/html") == ("recent", "html")
        for key in ("planned", "recent", "hit"):  # every kept entry still restores
            assert cache.load_verified(cache.get(key)) is not None
        assert not old_blob.exists() and not blobs.has(digest["orphan"])
        assert blobs.has(digest["input"]) and blobs.has(digest["fresh"])
        assert not old_tmp.exists() and young_tmp.exists()

        # Nothing left to do: a second pass frees nothing.
        plan = {"plan_keys": {"planned"}, "plan_inputs": {digest["input"]}}
        assert not prune(cache, now=now, keep_days=14, blob_cutoff=now, **plan).freed
        # keep-days 0 without a plan: every entry goes, and then every blob but the fresh one.
        again = prune(cache, now=now, keep_days=0, blob_cutoff=now)
        assert again.entries == 3 and cache.count() == 0
        assert _blob_names(state / "blobs") == {digest["fresh"], young_tmp.name}


def test_clear_forgets_every_entry_and_deletes_every_blob(tmp_path: Path) -> None:
    now = time.time()
    with BuildCache(tmp_path / ".clx") as cache:
        _record(cache, "a", {"html": b"a", "code": b"aa"}, now)
        _record(cache, "b", {"html": b"b"}, now)
        cache.blobs.put(b"an input")
        result = clear(cache, now=now)
        assert (result.entries, result.blobs, result.bytes) == (2, 4, 1 + 2 + 1 + 8)
        assert cache.count() == 0 and not _blob_names(tmp_path / ".clx" / "blobs")
        assert result.summary() == "2 cached result(s), 4 blob(s) (12 B freed)"


def test_running_builds_are_open_sessions_with_a_live_process(tmp_path: Path) -> None:
    state = tmp_path / ".clx"
    assert running_builds(state) == []  # no queue database: nothing runs, nothing created
    assert not (state / "clx.db").exists()
    state.mkdir()
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    with SqliteQueue(state / "clx.db") as q:
        mine = q.open_session(info={"pid": os.getpid()})
        dead = q.open_session(info={"pid": int(gone.stdout)})
        closed = q.open_session(info={"pid": os.getpid()})
        q.close_session(closed)
        assert [s.id for s in running_builds(state)] == [mine]
        assert running_builds(state, exclude_pid=os.getpid()) == []
        # A session without a live build process still runs while one of its workers lives.
        worker = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
        try:
            q.register_worker("w1", dead, ["notebook"], pid=worker.pid)
            assert {s.id for s in running_builds(state)} == {mine, dead}
        finally:
            worker.kill()
            worker.wait()
        assert [s.id for s in running_builds(state)] == [mine]


# --- end to end: real builds with a clock ---------------------------------------------


def _notebook(title: str, text: str) -> str:
    """Markdown only: the job runs in a real worker but starts no kernel."""
    return (
        f'# j2 from \'macros.j2\' import header\n# {{{{ header("{title}", "{title}") }}}}\n\n'
        f"# %% [markdown]\n# {text}\n"
    )


def _entries(state: Path) -> set[str]:
    with BuildCache(state) as cache:
        return {k for (k,) in cache._conn.execute("SELECT cache_key FROM entries")}


def test_complete_builds_prune_and_the_next_build_still_restores(tmp_path: Path) -> None:
    root = tmp_path / "course"
    alpha = root / "slides/m_1/topic_100_alpha/slides_alpha.py"
    write_tree(
        root,
        {
            "course-specs/c.xml": TWO_TOPICS_SPEC,
            "slides/m_1/topic_100_alpha/slides_alpha.py": _notebook("Alpha", "first text"),
            "slides/m_1/topic_100_alpha/notes.txt": "an input of the alpha notebook",
            "slides/m_1/topic_200_beta/slides_beta.py": _notebook("Beta", "beta text"),
        },
    )
    spec, state, out = root / "course-specs/c.xml", root / ".clx", root / "output"
    t0 = time.time()
    clock = [t0]

    def run(**kw):
        report = build(
            BuildOptions(spec=spec, progress=SilentProgress(), clock=lambda: clock[0], **kw)
        )
        assert report.ok, report.render_text()
        return report

    assert dict(run().jobs_by_kind["notebook"]) == {"succeeded": 4}
    first = _entries(state)

    # Leftovers a clean-up must catch: an orphan blob, a dead temporary file, a stale render.
    blobs = BlobStore(state / "blobs")
    orphan = blobs.path(blobs.put(b"nobody needs this"))
    dead_tmp = orphan.parent / ".dead.tmp"
    dead_tmp.write_bytes(b"x")
    stale_render = state / "renders" / ("0" * 64 + ".png")
    stale_render.parent.mkdir(parents=True, exist_ok=True)
    stale_render.write_bytes(b"png")
    for p in (orphan, dead_tmp, stale_render):
        _age(p, t0 - 2 * 3600)

    # 20 days on, alpha changed: its first results are unused for longer than 14 days.
    alpha.write_text(_notebook("Alpha", "second text"))
    clock[0] = t0 + 20 * DAY
    r = run()
    assert dict(r.jobs_by_kind["notebook"]) == {"cached": 2, "succeeded": 2}
    assert r.cache_gc is not None and r.cache_gc.entries == 2
    assert r.cache_gc.blobs >= 2 and r.cache_gc.files == 2 and r.cache_gc.bytes > 0
    assert "cache: pruned 2 cached result(s), " in r.render_text()
    doc = report_json(r, exit_status=0, spec=spec, course_root=root, output_root=out)
    jsonschema.validate(doc, json.loads(SCHEMA.read_text()))
    assert doc["cache_gc"]["entries"] == 2 and doc["cache_gc"]["bytes"] == r.cache_gc.bytes
    kept = _entries(state)
    assert len(kept) == 4 and len(kept & first) == 2  # beta's, still planned
    assert not orphan.exists() and not dead_tmp.exists() and not stale_render.exists()
    assert any(blobs.path(d).exists() for d in _input_digests(state))  # notes.txt stays
    with BuildCache(state) as cache:
        for key in kept:
            assert cache.load_verified(cache.get(key)) is not None
        named = cache.referenced_blobs()
    assert _blob_names(state / "blobs") <= named | set(_input_digests(state))

    # Deleted outputs come back from the kept entries without running a job.
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    shutil.rmtree(out)
    clock[0] = t0 + 21 * DAY
    r = run()
    assert dict(r.jobs_by_kind["notebook"]) == {"cached": 4} and r.cache_gc is None
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before

    # A focused build saw part of the course only: 60 days on, the English results are
    # unused by it for long, yet it prunes nothing.
    clock[0] = t0 + 60 * DAY
    r = run(langs=("de",))
    assert dict(r.jobs_by_kind["notebook"]) == {"cached": 2}
    assert r.cache_gc is None and _entries(state) == kept


def _input_digests(state: Path) -> list[str]:
    from clx.store import sha256

    root = state.parent
    return [sha256((root / "slides/m_1/topic_100_alpha/notes.txt").read_bytes())]


def test_putting_a_stored_blob_again_refreshes_its_age(tmp_path: Path) -> None:
    """A concurrent build that reuses an old input blob must not lose it to the age guard."""
    blobs = BlobStore(tmp_path / "blobs")
    digest = blobs.put(b"input")
    old = time.time() - 3 * 86400
    os.utime(blobs.path(digest), (old, old))
    assert blobs.put(b"input") == digest
    assert blobs.path(digest).stat().st_mtime > old + 86400
    assert blobs.get(digest) == b"input"
