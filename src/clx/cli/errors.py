"""The one exception the CLI turns into a message without a traceback."""

from __future__ import annotations

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """A mistake on the command line or in a config file: printed as ``clx: <message>``,
    exit status 2."""
