"""Cache clean-up cost: pruning a state folder of 10,000 cache entries and 20,000 blobs.

Every complete build runs the clean-up, so two figures matter: a prune that removes a
good part of the folder, and the pass right after it that finds nothing to remove (what
an ordinary build pays). The folder is synthetic but written through BuildCache and
BlobStore like a build writes it: each entry names one output blob, and as many blobs
again stand for input files. Half of the entries were last used 30 days ago; a quarter
of those are still planned. Half of the input blobs are read by the plan.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import tempfile
import time
from pathlib import Path

from clx.pipeline.cache import BuildCache
from clx.pipeline.cache_gc import DAY, prune


def populate(state: Path, entries: int, blobs: int, now: float) -> tuple[set[str], set[str]]:
    """Returns (planned cache keys, planned input digests)."""
    planned_keys: set[str] = set()
    planned_inputs: set[str] = set()
    with BuildCache(state) as cache:
        for i in range(entries):
            key = hashlib.sha256(f"key {i}".encode()).hexdigest()
            old = i % 2 == 0
            output = f"output {i} ".encode() * 40  # a few KB like a small notebook
            cache.record(
                key,
                "notebook",
                "succeeded",
                {"html": output},
                [],
                {"kind": "notebook"},
                f"slides/topic_{i:05d}/slides.py",
                {"html": f"/out/{i}.html"},
                now=now - (30 if old else 1) * DAY,
            )
            if old and i % 8 == 0:
                planned_keys.add(key)
        for i in range(blobs - entries):
            digest = cache.blobs.put(f"input file {i}\n".encode() * 20)
            if i % 2 == 0:
                planned_inputs.add(digest)
    past = now - 3600
    for folder in (state / "blobs").iterdir():
        for f in folder.iterdir():
            os.utime(f, (past, past))
    return planned_keys, planned_inputs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--entries", type=int, default=10_000)
    ap.add_argument("--blobs", type=int, default=20_000)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        state = Path(tmp) / ".clx"
        now = time.time()
        t = time.perf_counter()
        keys, inputs = populate(state, a.entries, a.blobs, now)
        setup = time.perf_counter() - t
        print(f"setup: {a.entries} entries, {a.blobs} blobs written in {setup:.1f} s")
        with BuildCache(state) as cache:
            plan = {"plan_keys": keys, "plan_inputs": inputs}
            t = time.perf_counter()
            result = prune(cache, now=now, keep_days=14, blob_cutoff=now, **plan)
            first = time.perf_counter() - t
            print(f"prune: {result.summary()} in {first:.2f} s")
            t = time.perf_counter()
            again = prune(cache, now=now, keep_days=14, blob_cutoff=now, **plan)
            noop = time.perf_counter() - t
            print(f"prune again (nothing to do): {again.summary()} in {noop:.2f} s")
            left = cache.count()
    print(
        f"entries={a.entries} blobs={a.blobs} pruned_entries={result.entries} "
        f"pruned_blobs={result.blobs} freed_bytes={result.bytes} entries_left={left} "
        f"prune_s={first:.3f} noop_prune_s={noop:.3f}"
    )


if __name__ == "__main__":
    main()
