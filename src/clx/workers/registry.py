"""Which handler serves which job kind, as import strings resolved on first use.

Importing a handler pulls in its tool stack (nbclient, Playwright, …), so a worker only
imports the handlers of the kinds it serves. A kind can be registered once; a second
registration is a programming error, not an override.
"""

from __future__ import annotations

import importlib

from clx.problems import ConfigurationError
from clx.workers.handler import Handler

_FACTORIES: dict[str, str] = {}


def register(kind: str, factory: str) -> None:
    """Register ``"package.module:Class"`` (called without arguments) for ``kind``."""
    if kind in _FACTORIES:
        raise ValueError(
            f"job kind {kind!r} is already served by {_FACTORIES[kind]}; cannot add {factory}"
        )
    if ":" not in factory:
        raise ValueError(f"handler factory {factory!r} must look like 'package.module:Class'")
    _FACTORIES[kind] = factory


def kinds() -> list[str]:
    return sorted(_FACTORIES)


def factory_of(kind: str) -> str:
    try:
        return _FACTORIES[kind]
    except KeyError:
        raise ConfigurationError(
            f"no handler for job kind {kind!r} (known: {', '.join(kinds())})"
        ) from None


def create(kind: str) -> Handler:
    """Import the handler's module and build a handler; ConfigurationError if impossible."""
    factory = factory_of(kind)
    module_name, _, attr = factory.partition(":")
    try:
        cls = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as e:
        raise ConfigurationError(f"cannot load the {kind!r} handler {factory}: {e}") from e
    return cls()


for _kind, _factory in {
    "notebook": "clx.workers.handlers.notebook:NotebookHandler",
    "plantuml": "clx.workers.handlers.plantuml:PlantUmlHandler",
    "drawio": "clx.workers.handlers.drawio:DrawioHandler",
    "noop": "clx.workers.handlers.noop:NoopHandler",
    # Handlers with scripted behaviour for the runtime's own tests and benchmarks.
    "sleep": "clx.workers.handlers.testing:SleepHandler",
    "crash": "clx.workers.handlers.testing:CrashHandler",
    "fail": "clx.workers.handlers.testing:FailHandler",
    "tally": "clx.workers.handlers.testing:TallyHandler",
    "misconfigured": "clx.workers.handlers.testing:MisconfiguredHandler",
    "hangstart": "clx.workers.handlers.testing:HangingStartHandler",
    "toolchild": "clx.workers.handlers.testing:ToolChildHandler",
}.items():
    register(_kind, _factory)
