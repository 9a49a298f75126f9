"""`clx serve` and `clx build --serve`: the live build page (clx.web) from the command line.

`clx serve SPEC` shows the course's running build, else its latest one, from the queue
until Ctrl-C. `clx build … --serve` (also with `--watch`) starts the same page beside
the build, in this process, so it also knows the cache hits and how each build ended;
a one-shot build's page sends its last state and stops when the build ends.
"""

from __future__ import annotations

import argparse
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from clx.cli.config import SERVE_HOST, SERVE_PORT
from clx.cli.errors import EXIT_OK, EXIT_USAGE, UsageError

if TYPE_CHECKING:
    from clx.pipeline.report import BuildReport
    from clx.pipeline.run import BuildOptions
    from clx.web.events import BuildEvents
    from clx.web.server import LiveServer


def add_serve_flags(p: argparse.ArgumentParser, *, switch: bool) -> None:
    """``--host``/``--port`` (and ``--serve`` for `clx build`)."""
    if switch:
        p.add_argument(
            "--serve",
            action="store_true",
            help="show the build live in the browser (a page on 127.0.0.1; see clx serve)",
        )
    # `clx build` leaves them None, so that --host/--port without --serve is an error.
    p.add_argument(
        "--host",
        default=None if switch else SERVE_HOST,
        help=f"address of the live page (default {SERVE_HOST}; any other address is "
        "reachable by others and has no authentication)",
    )
    p.add_argument(
        "--port",
        type=int,
        default=None if switch else SERVE_PORT,
        help=f"port of the live page (default {SERVE_PORT}; 0 picks a free one)",
    )


def add_serve_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("serve", help="a live page of the course's builds in the browser")
    p.add_argument("spec", help="course spec XML file (course-specs/*.xml)")
    p.add_argument("--course-root", help="course root (default: parent of the spec's folder)")
    p.add_argument(
        "--output-dir",
        help="output root whose files the page links (default: clx.toml output-dir, "
        "else <course root>/output)",
    )
    p.add_argument(
        "--queue",
        metavar="URL",
        help="the PostgreSQL queue the builds use (default: CLX_QUEUE_URL, clx.toml "
        "[queue] url, else the course's own .clx/clx.db)",
    )
    add_serve_flags(p, switch=False)
    p.set_defaults(func="serve:serve")


class LivePage:
    """The page beside a build of this process: started before, stopped after."""

    def __init__(self, server: LiveServer, events: BuildEvents) -> None:
        self.server = server
        self.events = events

    def report(self, report: BuildReport) -> None:
        self.events.ended(
            ok=report.ok,
            errors=len(report.errors),
            outputs=report.outputs,
            problems=report.errors,  # also those the queue never saw (cache, copies, stalls)
        )

    def stop(self) -> None:
        self.server.stop()


def _warn(line: str) -> None:
    print(f"clx: warning: {line}", file=sys.stderr, flush=True)


def _server(
    spec: Path,
    root: Path,
    output_root: Path | None,
    host: str,
    port: int,
    events: BuildEvents | None,
    queue_url: str | None,
) -> LiveServer:
    from clx.course.course import load_course
    from clx.course.layout import Layout
    from clx.web.server import LiveServer, no_auth_warning
    from clx.web.status import CourseInfo, StatusCollector

    if not 0 <= port <= 65535:
        raise UsageError(f"--port: {port} is not a port number")
    course = load_course(spec, root, output_root)  # SpecError: the caller reports it
    layout = Layout(course.output_root, course.spec.name)
    info = CourseInfo(
        spec=course.spec.file,
        name=course.spec.name["en"],
        output_root=course.output_root,
        spec_path=spec.resolve(),
        home_pages=tuple(
            layout.home_page(t, lang) for t in ("public", "speaker") for lang in ("de", "en")
        ),
    )
    collector = StatusCollector(queue_url or course.state_dir / "clx.db", info, events)
    server = LiveServer(collector, course.output_root, host=host, port=port)
    warning = no_auth_warning(host)
    if warning:
        _warn(warning)
    try:
        url = server.start()
    except OSError as e:
        raise UsageError(f"cannot serve the live page on {host}:{port}: {e.strerror or e}") from e
    if events is not None:
        events.on_change = server.wake
    print(f"clx: live page at {url}", file=sys.stderr, flush=True)
    return server


def start_for_build(args: argparse.Namespace, opts: BuildOptions) -> LivePage | None:
    """With ``--serve``: start the page and route the build's progress through it."""
    if not getattr(args, "serve", False):
        if getattr(args, "host", None) is not None or getattr(args, "port", None) is not None:
            raise UsageError("--host and --port need --serve")
        return None
    from clx.course.spec import SpecError
    from clx.web.events import BuildEvents, WebProgress

    events = BuildEvents()
    root = opts.course_root or opts.spec.resolve().parent.parent
    try:
        server = _server(
            opts.spec,
            root,
            opts.output_root,
            args.host or SERVE_HOST,
            SERVE_PORT if args.port is None else args.port,
            events,
            opts.queue_url,
        )
    except SpecError:
        return None  # the build reports the spec's errors and exits 2
    opts.progress = WebProgress(opts.progress, events)
    return LivePage(server, events)


def serve(args: argparse.Namespace) -> int:
    from clx.cli.buildcmd import settings
    from clx.cli.course_paths import spec_path
    from clx.course.spec import SpecError

    spec = spec_path(args)
    root, defaults = settings(args, spec)
    try:
        server = _server(
            spec, root, defaults.output_dir, args.host, args.port, None, defaults.queue_url
        )
    except SpecError as e:
        for prob in e.problems:
            print(prob.format(), file=sys.stderr)
        return EXIT_USAGE
    try:
        threading.Event().wait()  # until Ctrl-C
    except KeyboardInterrupt:
        print("clx: live page stopped", file=sys.stderr)
    finally:
        server.stop(drain=0.5)
    return EXIT_OK
