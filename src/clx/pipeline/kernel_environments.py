"""What runs each notebook's kernel in this course, as the job planner needs to know it.

The planner puts into every notebook job the interpreter its Python kernel runs in (the
course's own, ``clx.notebooks.environments.course_python``) and, as an ingredient of the
cache key, the identity of its kernel environment: for Python the versions of the
distributions the notebook uses there (what its code cells and its topic's helper
modules import, ipykernel's, and their requirements), for the other kernels their
versions. A course Python without ipykernel is reported once per build through the
execution policy (``unusable``), not by every notebook's job.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from clx.course.files import FileClass
from clx.course.outputs import NotebookOutput
from clx.notebooks.environments import (
    InterpreterUnusable,
    PythonEnvironment,
    imported_modules,
    install_ipykernel_hint,
    is_own,
    kernel_identity,
    python_environment,
)
from clx.stamped_memo import StampedMemo


class CourseKernels:
    """``python``: the course's interpreter ("" for clx's own); ``read`` gives a file's
    bytes (the planner's, which hashes each file once)."""

    def __init__(self, state_dir: Path, python: str, read: Callable[[Path], bytes]) -> None:
        self.python = python or sys.executable
        self._read = read
        self._memo = StampedMemo(state_dir / "environments.json")
        self._env: PythonEnvironment | None = None
        self._identities: dict[str, Any] = {}

    def payload_python(self, nb: NotebookOutput) -> str:
        """The interpreter a job names: the course's, for Python notebooks; "" when it is
        clx's own (a remote worker then uses its own)."""
        return self.python if nb.prog_lang.id == "python" and not is_own(self.python) else ""

    def environment(self) -> PythonEnvironment:
        """The course's Python environment (raises InterpreterUnusable)."""
        if self._env is None:
            self._env = python_environment(self.python, self._memo)
        return self._env

    def identity(self, nb: NotebookOutput, text: str) -> Any:
        """What runs ``nb``'s kernel, an ingredient of its cache key."""
        if nb.prog_lang.id == "python":
            # The topic's own modules are inputs of the key already; what they import
            # counts like the notebook's own imports.
            helpers = [
                f for f in nb.topic.files if f.cls is FileClass.DATA and f.relpath.endswith(".py")
            ]
            own = {Path(f.relpath).stem for f in helpers}
            own |= {Path(f.relpath.split("/")[0]).stem for f in helpers}
            imported = set(imported_modules(text))
            for f in helpers:
                imported |= imported_modules(self._read(f.path).decode("utf-8", errors="replace"))
            try:
                return self.environment().identity(imported - own)
            except InterpreterUnusable as e:  # reported by ``unusable`` when it executes
                return {"python": self.python, "unusable": str(e)}
        name = nb.prog_lang.kernel_name
        if name not in self._identities:
            self._identities[name] = kernel_identity(name, memo=self._memo)
        return self._identities[name]

    def unusable(self, kernel_name: str) -> tuple[str, str] | None:
        """(why, what to do) when an installed kernel cannot run this course's notebooks:
        the course's Python environment lacks ipykernel or does not run at all."""
        if kernel_name != "python3":
            return None
        try:
            env = self.environment()
        except InterpreterUnusable as e:
            return str(e), "fix the environment or [kernels] python in clx.toml"
        if env.has_ipykernel:
            return None
        return (
            f"the course's Python environment {self.python} has no ipykernel",
            f"install it with: {install_ipykernel_hint(self.python)}",
        )

    def save(self) -> None:
        self._memo.save()
