"""The Queue contract (queue_contract.py), run against every engine clx ships."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from clx.queue import SqliteQueue
from clx.queue.postgres import PostgresQueue

sys.path.insert(0, str(Path(__file__).parent))
from queue_contract import QueueContract  # noqa: E402


class TestQueueContract(QueueContract):
    @pytest.fixture(params=["sqlite", "postgresql"])
    def queue(self, request, tmp_path, clock):
        if request.param == "sqlite":
            q = SqliteQueue(tmp_path / ".clx" / "clx.db", clock=clock, backoff_base=1.0)
        else:
            url = request.getfixturevalue("postgres_url")
            q = PostgresQueue(url, clock=clock, backoff_base=1.0)
        yield q
        q.close()
