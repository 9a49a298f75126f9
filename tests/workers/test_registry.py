from __future__ import annotations

import subprocess
import sys

import pytest

from clx.problems import ConfigurationError
from clx.workers import registry
from clx.workers.handlers.noop import NoopHandler


def test_builtin_kinds_map_to_their_handlers():
    assert registry.factory_of("notebook") == "clx.workers.handlers.notebook:NotebookHandler"
    assert registry.factory_of("plantuml") == "clx.workers.handlers.plantuml:PlantUmlHandler"
    assert registry.factory_of("drawio") == "clx.workers.handlers.drawio:DrawioHandler"
    assert isinstance(registry.create("noop"), NoopHandler)
    assert {"noop", "sleep", "crash", "fail"} <= set(registry.kinds())


def test_a_kind_cannot_be_registered_twice():
    with pytest.raises(ValueError, match="already served"):
        registry.register("noop", "somewhere.else:Handler")
    assert registry.factory_of("noop") == "clx.workers.handlers.noop:NoopHandler"


def test_bad_factories_and_unknown_kinds_are_configuration_errors(monkeypatch):
    monkeypatch.setattr(registry, "_FACTORIES", dict(registry._FACTORIES))
    with pytest.raises(ValueError, match="module:Class"):
        registry.register("broken-spec", "no_colon_here")
    with pytest.raises(ConfigurationError, match="no handler for job kind 'nope'"):
        registry.create("nope")
    registry.register("test-missing-module", "clx.workers.handlers.does_not_exist:X")
    with pytest.raises(ConfigurationError, match="cannot load"):
        registry.create("test-missing-module")


def test_handlers_are_imported_only_when_used():
    code = (
        "import sys, clx.workers.registry as r; r.create('noop');"
        "print(sorted(m for m in sys.modules if m.startswith('clx.workers.handlers.')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "['clx.workers.handlers.noop']"
