"""`clx cache prune` and `clx cache clear` on a real course folder and cache database."""

from __future__ import annotations

import os
import time

import pytest
from cli_course import plain_course

from clx.cli.buildcmd import build_options
from clx.cli.config import DEFAULTS
from clx.cli.main import build_parser, main
from clx.pipeline.cache import BuildCache
from clx.pipeline.cache_gc import DAY
from clx.queue.sqlite import SqliteQueue


def _blobs(state) -> set[str]:
    return {p.name for p in (state / "blobs").rglob("*") if p.is_file()}


def _seed(state, now: float) -> dict[str, str]:
    """Entries last used 1, 10 and 30 days ago, and a blob nothing names."""
    out = {}
    with BuildCache(state) as cache:
        for days in (1, 10, 30):
            key = f"used-{days}-days-ago"
            cache.record(
                key,
                "notebook",
                "succeeded",
                {"html": key.encode()},
                [],
                {},
                "s.py",
                {"html": f"/out/{key}.html"},
                now=now - days * DAY,
            )
            out[key] = cache.get(key).outputs["html"]
        out["orphan"] = cache.blobs.put(b"an input of an old build")
    for p in (state / "blobs").rglob("*"):
        if p.is_file():
            os.utime(p, (now - 60, now - 60))
    return out


def test_prune_and_clear(make_course, monkeypatch, capsys) -> None:
    c = plain_course(make_course)
    monkeypatch.setenv("XDG_CONFIG_HOME", c.env["XDG_CONFIG_HOME"])
    state = c.root / ".clx"
    blobs = _seed(state, time.time())

    def clx(*args: str) -> tuple[int, str, str]:
        code = main(["cache", *args])
        out = capsys.readouterr()
        return code, out.out, out.err

    # Default: keep what was used in the last 14 days; the orphan blob goes.
    assert DEFAULTS.cache_keep_days == 14
    code, out, _ = clx("prune", str(c.spec))
    assert code == 0
    assert out.startswith("pruned 1 cached result(s), 2 blob(s) (")
    assert "kept 2 cached result(s) used in the last 14 days" in out
    assert _blobs(state) == {blobs["used-1-days-ago"], blobs["used-10-days-ago"]}

    # clx.toml sets the default (for builds too), --keep-days wins over it.
    (c.root / "clx.toml").write_text("[build]\ncache-keep-days = 5\n")
    build_args = build_parser().parse_args(["build", str(c.spec)])
    assert build_options(build_args, c.spec).cache_keep_days == 5
    code, out, _ = clx("prune", str(c.spec), "--keep-days", "30")
    assert code == 0 and out.startswith("pruned 0 cached result(s), 0 blob(s)")
    code, out, _ = clx("prune", str(c.spec))
    assert code == 0 and out.startswith("pruned 1 cached result(s), 1 blob(s)"), out
    assert _blobs(state) == {blobs["used-1-days-ago"]}
    assert clx("prune", str(c.spec), "--keep-days", "-1")[0] == 2

    # Nothing is deleted while a build of the course runs: its workers read the blobs.
    with SqliteQueue(state / "clx.db") as q:
        session = q.open_session(info={"pid": os.getpid()})
        for verb in ("clear", "prune"):
            code, out, err = clx(verb, str(c.spec))
            assert code == 1 and out == ""
            assert f"a build of this course is running (build {session[:8]})" in err
            assert "clx workers stop" in err
        assert _blobs(state) == {blobs["used-1-days-ago"]}
        q.close_session(session)

    # clear forgets every entry and deletes every blob.
    with BuildCache(state) as cache:
        cache.blobs.put(b"fresh input")
    (state / "views.json").write_text("{}")  # the language views a plan remembered
    code, out, _ = clx("clear", str(c.spec))
    assert code == 0 and out.startswith("cleared 1 cached result(s), 2 blob(s) (")
    assert _blobs(state) == set()
    assert not (state / "views.json").exists()
    with BuildCache(state) as cache:
        assert cache.count() == 0


@pytest.mark.parametrize("bad", ["-1", "'soon'"])
def test_cache_keep_days_in_clx_toml_is_checked(make_course, monkeypatch, capsys, bad) -> None:
    c = plain_course(make_course)
    monkeypatch.setenv("XDG_CONFIG_HOME", c.env["XDG_CONFIG_HOME"])
    (c.root / "clx.toml").write_text(f"[build]\ncache-keep-days = {bad}\n")
    assert main(["cache", "prune", str(c.spec)]) == 2
    assert "build.cache-keep-days" in capsys.readouterr().err
