"""Benchmark: 20 generated notebooks × all 14 variants in one process, per language.

Each notebook has a header, German and English markdown, given code (``keep``), a
solution, an alternative, a start cell, an answer, speaker notes and a helper module
import, so every HTML variant is real work: per notebook and language one kernel
execution (completed and speaker HTML share it) and three HTML exports.

Usage: ``python bench/notebooks.py [--notebooks 20] [--parallel 1] [--lang java ...]``.
``--parallel 2`` renders the two languages of a notebook in two threads sharing one
executor, which is what two notebook workers do on two cores. ``--lang`` (repeatable:
``python``, ``java``, ``typescript``; default python) measures the same deck shape in
each language, one after the other in the same run and with warm spare kernels, so the
Java (jjava) and TypeScript (Deno) figures stand next to Python's. The last line holds
the figures as ``name=value`` pairs, prefixed with the language when there are several.
"""

from __future__ import annotations

import argparse  # noqa: E402
import time  # noqa: E402
from concurrent.futures import ThreadPoolExecutor  # noqa: E402

from clx.course.variants import LANGS, variants_for  # noqa: E402
from clx.notebooks import Executor, NotebookSettings, NotebookSource, render_language  # noqa: E402

SETTINGS = NotebookSettings(
    author={"de": "Ada Lovelace", "en": "Ada Lovelace"},
    organization={"de": "Beispiel-Akademie", "en": "Example Academy"},
)


def generated_source(n: int) -> str:
    return f"""# j2 from 'macros.j2' import header
# {{{{ header("Thema {n}", "Topic {n}") }}}}

# %% [markdown] lang="de" tags=["subslide"]
# ## Listen Nummer {n}
#
# Wir bauen eine Liste mit {n + 3} Elementen.

# %% [markdown] lang="en" tags=["subslide"]
# ## Lists number {n}
#
# We build a list with {n + 3} elements.

# %% tags=["keep"]
import math

from helpers_{n} import scale

# %% tags=["start"]
values = ...

# %%
values = [scale(i) for i in range({n + 3})]
values

# %% tags=["alt"]
values = list(map(scale, range({n + 3})))
print(sum(values), math.sqrt(sum(values)))

# %% [markdown] lang="de" tags=["answer"]
# Die Summe ist {sum(range(n + 3)) * 2}.

# %% [markdown] lang="en" tags=["answer"]
# The sum is {sum(range(n + 3)) * 2}.

# %% [markdown] tags=["notes"]
# Fragen Sie nach `map`.

# %% lang="de"
print("Fertig mit Thema {n}")

# %% lang="en"
print("Done with topic {n}")
"""


def generated_java(n: int) -> str:
    return f"""// j2 from 'macros.j2' import header
// {{{{ header("Thema {n}", "Topic {n}") }}}}

// %% [markdown] lang="de" tags=["subslide"]
// ## Records Nummer {n}

// %% [markdown] lang="en" tags=["subslide"]
// ## Records number {n}

// %% tags=["keep"]
record Point(int x, int y) {{}}

// %% tags=["start"]
int total = 0;

// %%
int total = 0;
for (int i = 0; i < {n + 3}; i++) {{ total += 2 * i + {n}; }}
total

// %% tags=["alt"]
System.out.println(new Point({n}, total));

// %% [markdown] lang="de" tags=["answer"]
// Die Summe ist {sum(range(n + 3)) * 2 + n * (n + 3)}.

// %% [markdown] lang="en" tags=["answer"]
// The sum is {sum(range(n + 3)) * 2 + n * (n + 3)}.

// %% [markdown] tags=["notes"]
// Fragen Sie nach Streams.

// %% lang="de"
System.out.println("Fertig mit Thema {n}");

// %% lang="en"
System.out.println("Done with topic {n}");
"""


def generated_typescript(n: int) -> str:
    return f"""// j2 from 'macros.j2' import header
// {{{{ header("Thema {n}", "Topic {n}") }}}}

// %% [markdown] lang="de" tags=["subslide"]
// ## Typen Nummer {n}

// %% [markdown] lang="en" tags=["subslide"]
// ## Types number {n}

// %% tags=["keep"]
interface Point {{ x: number; y: number }}

// %% tags=["start"]
const values: number[] = [];

// %%
const values = Array.from({{ length: {n + 3} }}, (_, i) => 2 * i + {n});
values.reduce((a, b) => a + b, 0)

// %% tags=["alt"]
const p: Point = {{ x: {n}, y: values.length }};
console.log(p);

// %% [markdown] lang="de" tags=["answer"]
// Die Summe ist {sum(range(n + 3)) * 2 + n * (n + 3)}.

// %% [markdown] lang="en" tags=["answer"]
// The sum is {sum(range(n + 3)) * 2 + n * (n + 3)}.

// %% [markdown] tags=["notes"]
// Fragen Sie nach `reduce`.

// %% lang="de"
console.log("Fertig mit Thema {n}");

// %% lang="en"
console.log("Done with topic {n}");
"""


LANGS_BENCHED = {
    "python": ("python3", ".py"),
    "java": ("java", ".java"),
    "typescript": ("deno", ".ts"),
}


def source_in(prog_lang: str, n: int) -> NotebookSource:
    if prog_lang == "python":
        return source(n)
    text = generated_java(n) if prog_lang == "java" else generated_typescript(n)
    suffix = LANGS_BENCHED[prog_lang][1]
    return NotebookSource(
        path=f"slides/module_100/topic_{n:03d}_bench/slides_bench_{n}{suffix}",
        text=text,
        prog_lang=prog_lang,
    )


def source(n: int) -> NotebookSource:
    return NotebookSource(
        path=f"slides/module_100/topic_{n:03d}_bench/slides_bench_{n}.py",
        text=generated_source(n),
        prog_lang="python",
        topic_files={f"helpers_{n}.py": f"def scale(x):\n    return 2 * x + {n}\n".encode()},
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notebooks", type=int, default=20)
    parser.add_argument("--parallel", type=int, default=1, choices=(1, 2))
    parser.add_argument("--spares", type=int, default=1, help="spare kernels kept booting")
    parser.add_argument(
        "--lang",
        action="append",
        choices=sorted(LANGS_BENCHED),
        help="notebook language (repeatable; default python)",
    )
    args = parser.parse_args()
    langs = list(dict.fromkeys(args.lang or ["python"]))
    figures = [measure(prog_lang, args) for prog_lang in langs]
    if len(langs) == 1:
        print(figures[0])
    else:
        print(
            " ".join(
                f"{lang}_{pair}"
                for lang, line in zip(langs, figures, strict=True)
                for pair in line.split()
            )
        )
    return 0


def measure(prog_lang: str, args: argparse.Namespace) -> str:
    """Render the generated decks of one language; the figures as ``name=value`` pairs."""
    sources = [source_in(prog_lang, n) for n in range(args.notebooks)]
    with Executor(spares=args.spares) as executor:
        t0 = time.perf_counter()
        executor.warm(LANGS_BENCHED[prog_lang][0])
        # A worker warms up once (imports, HTML exporter, first kernel); one throw-away
        # notebook keeps that out of the per-notebook figure (reported separately).
        warm_up = source_in(prog_lang, 999)
        render_language(warm_up, "de", variants_for("de"), "warm-up", SETTINGS, executor)
        startup = time.perf_counter() - t0

        def one(job: tuple[NotebookSource, str]) -> int:
            src, lang = job
            result = render_language(src, lang, variants_for(lang), "01 Topic", SETTINGS, executor)
            errors = [p.format() for p in result.problems if p.is_error]
            if errors or len(result.outputs) != 7:
                raise SystemExit(f"{src.path} {lang}: {errors}")
            return result.executions

        jobs = [(src, lang) for src in sources for lang in LANGS]
        t1 = time.perf_counter()
        with ThreadPoolExecutor(max_workers=args.parallel) as pool:
            executions = sum(pool.map(one, jobs))
        elapsed = time.perf_counter() - t1
        kernels = executor.pool.started

    per = elapsed / args.notebooks
    print(
        f"{prog_lang}: {args.notebooks} notebooks x 14 variants: {elapsed:.2f} s"
        f" ({per:.3f} s per notebook)"
    )
    return (
        f"notebooks={args.notebooks} variants={14 * args.notebooks} parallel={args.parallel} "
        f"spares={args.spares} "
        f"executions={executions} kernels_started={kernels} startup_seconds={startup:.2f} "
        f"seconds={elapsed:.2f} seconds_per_notebook={per:.3f}"
    )


if __name__ == "__main__":
    raise SystemExit(main())
