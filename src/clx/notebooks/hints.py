"""Hints for cell errors whose fix lies outside the course: a package that is missing.

A Python notebook that imports a package the kernel's interpreter lacks fails with
``ModuleNotFoundError``. The author's question is "where do I install it?": the answer
names the interpreter that ran the kernel (the course's own environment,
``clx.notebooks.environments``; without one the running interpreter, to which Jupyter
resolves the ``python`` of the ``python3`` kernelspec) and the command to install into it.
"""

from __future__ import annotations

import re
import sys

_MISSING_MODULE = re.compile(r"^ModuleNotFoundError: No module named '([\w.]+)'")


def missing_module_hint(message: str, prog_lang: str, interpreter: str | None = None) -> str:
    """The hint to add to a cell's error message, or "" when there is none."""
    found = _MISSING_MODULE.match(message)
    if prog_lang != "python" or found is None:
        return ""
    top = found.group(1).split(".")[0]
    python = interpreter or sys.executable
    return (
        f"the notebook ran in {python}; install the package that provides '{top}' there,"
        f" e.g. {python} -m pip install {top}"
    )
