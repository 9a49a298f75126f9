"""Which notebooks run, where cells may fail, and what a missing kernel means for a build.

Three sources decide how a notebook's completed and speaker HTML are made:

* ``clx.toml`` ``[execute] skip`` (and ``clx build --no-execute LANG``): that language's
  pages are exported without running anything, with one warning per build and language;
* ``<topic evaluate="no">``: the same for one topic, silently (the author asked for it);
* ``[execute] allow-errors`` and ``<topic skip-errors="yes">``: failing cells keep their
  error output and become warnings (teaching material shows errors on purpose).

A language whose kernel is not installed, or cannot run in the course's environment
(a course Python without ipykernel), is one configuration error per build, naming
the decks it affects, instead of one failure per notebook. Its jobs are planned without
the completed and speaker HTML, so they succeed and are cached like any other result:
an unchanged course runs no job again until the installed kernels change (the job's
variants, part of its cache key, change then). Every choice here is in the payload or
the variants of a job, so the cache keeps executed and unexecuted results apart.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from clx.course.languages import LANGUAGES
from clx.course.outputs import NotebookOutput
from clx.course.variants import Variant
from clx.problems import Category, Problem, Severity


def installed_kernel_names() -> set[str]:
    """Kernelspec names Jupyter finds for this environment (reads kernel.json folders)."""
    from jupyter_client.kernelspec import KernelSpecManager

    return set(KernelSpecManager().find_kernel_specs())


@dataclass(frozen=True)
class NotebookExecution:
    """How one notebook's completed and speaker HTML are made."""

    execute: bool = True
    allow_errors: bool = False
    kernel_missing: bool = False


def executed_label(label: str) -> bool:
    """Whether a variant label (``de/completed/html``) names an executed page or deck."""
    return Variant.parse(label).executed


class ExecutionPolicy:
    """The build's execution choices; ``problems`` reports them once per language."""

    def __init__(
        self,
        skip: Iterable[str] = (),
        allow_errors: Iterable[str] = (),
        installed: Callable[[], set[str]] = installed_kernel_names,
        unusable: Callable[[str], tuple[str, str] | None] = lambda _name: None,
    ) -> None:
        self.skip = frozenset(skip)
        self.allow_errors = frozenset(allow_errors)
        self._installed_names = installed
        self._installed: set[str] | None = None
        self._unusable_of = unusable
        self._unusable: dict[str, tuple[str, str] | None] = {}  # kernel -> (why, fix)
        self._missing: dict[str, list[NotebookOutput]] = {}
        self._skipped: dict[str, list[NotebookOutput]] = {}

    def installed(self) -> set[str]:
        if self._installed is None:
            self._installed = self._installed_names()
        return self._installed

    def of(self, nb: NotebookOutput) -> NotebookExecution:
        """The execution of ``nb``; remembers skipped and kernel-less decks for the report."""
        lang = nb.prog_lang
        allow = lang.id in self.allow_errors or nb.skip_errors
        executes = any(executed_label(v.label) for v in nb.paths)
        if lang.id in self.skip:
            if executes:
                self._skipped.setdefault(lang.id, []).append(nb)
            return NotebookExecution(execute=False, allow_errors=allow)
        if not nb.evaluate:
            return NotebookExecution(execute=False, allow_errors=allow)
        if executes and (
            lang.kernel_name not in self.installed() or self.unusable(lang.kernel_name) is not None
        ):
            self._missing.setdefault(lang.id, []).append(nb)
            return NotebookExecution(allow_errors=allow, kernel_missing=True)
        return NotebookExecution(allow_errors=allow)

    def unusable(self, kernel_name: str) -> tuple[str, str] | None:
        """Why an installed kernel cannot run, and the fix (asked once per kernel)."""
        if kernel_name not in self._unusable:
            self._unusable[kernel_name] = self._unusable_of(kernel_name)
        return self._unusable[kernel_name]

    def problems(self, spec_file: str) -> list[Problem]:
        """One error per language without its kernel, one warning per skipped language."""
        from clx.notebooks.kernels import INSTALL_HINTS

        found: list[Problem] = []
        for lang_id, decks in sorted(self._missing.items()):
            lang = LANGUAGES[lang_id]
            names = sorted({nb.source_rel for nb in decks})
            hint = INSTALL_HINTS.get(lang.kernel_name, "install a Jupyter kernel of this name")
            why = f"Jupyter kernel '{lang.kernel_name}' for {lang_id} is not installed"
            if lang.kernel_name in self.installed():
                why, hint = self._unusable.get(lang.kernel_name) or (why, hint)
            found.append(
                Problem(
                    f"{why}, so the completed and speaker HTML of {_decks(names)} are not"
                    f' built; {hint}; or set [execute] skip = ["{lang_id}"] in clx.toml to'
                    " build them unexecuted",
                    file=names[0] if len(names) == 1 else spec_file,
                    category=Category.CONFIGURATION,
                    detail="\n".join(names),
                )
            )
        for lang_id, decks in sorted(self._skipped.items()):
            names = sorted({nb.source_rel for nb in decks})
            found.append(
                Problem(
                    f"{lang_id} notebooks are not executed ([execute] skip or --no-execute):"
                    f" the completed and speaker HTML of {_decks(names)} have no outputs",
                    file=spec_file,
                    severity=Severity.WARNING,
                    category=Category.CONFIGURATION,
                )
            )
        return found


def _decks(names: list[str]) -> str:
    if len(names) <= 3:
        return ", ".join(names)
    return f"{len(names)} decks ({', '.join(names[:3])}, …)"
