"""The ``fulfillmap`` command line. A thin shell over the Python API: it reads files, calls
``load``/``apply`` and reports. Exit codes: 0 success, 1 bad input or invalid mapping,
2 bad usage.
"""

from __future__ import annotations

import argparse
import functools
import itertools
import json
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, TextIO, cast

from fulfillmap.errors import EventError, FulfillmapError, MappingError, SpecError
from fulfillmap.evaluate._mapping import load
from fulfillmap.language._jsonio import dump_line, parse_json, parse_line
from fulfillmap.language._resources import (
    language_schema,
    shipped_mapping_names,
    shipped_test_files,
)

if TYPE_CHECKING:
    from fulfillmap.evaluate._mapping import CompiledMapping
    from fulfillmap.events._handler import Action, Engine
    from fulfillmap.tooling._testing import CaseFile, Session

# Each command imports what only it needs (reports, explain, render, testing, the handler) when
# it runs: `fulfillmap handle` and `map` then start without the tooling's imports (jsonschema).

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return int(args.run(args))
    except MappingError as exc:
        # one paragraph, as tools that call fulfillmap expect; with --verbose, the trace up
        # to the failure and the data there follow it
        _fail(exc.details() if getattr(args, "verbose", False) else str(exc))
        return 1
    except FulfillmapError as exc:
        _fail(str(exc))
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        sys.stderr.close()  # the reader went away (e.g. `| head`); nothing more to say
        return 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="fulfillmap",
        description="Declarative mappings for Digital River coordinated fulfillments.",
    )
    commands = parser.add_subparsers(title="commands", required=True, metavar="COMMAND")

    run = commands.add_parser("map", help="map one JSON document and print the result")
    run.add_argument("mapping", metavar="MAPPING", help="a shipped mapping's name or a YAML path")
    run.add_argument(
        "input",
        metavar="INPUT",
        nargs="?",
        default="-",
        help="a JSON file (default: standard input, also '-')",
    )
    run.add_argument("--context", metavar="FILE", help="a JSON object passed as the context")
    run.add_argument(
        "--no-validate",
        dest="validate",
        action="store_false",
        help="do not validate the result against the target schema",
    )
    run.add_argument("--compact", action="store_true", help="print the JSON on one line")
    run.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="on failure, also print the trace up to it and the input there",
    )
    run.set_defaults(run=_map)

    check = commands.add_parser("validate", help="check mapping files; print every problem")
    check.add_argument(
        "paths",
        metavar="PATH",
        nargs="*",
        help="mapping, routes.yaml and *.fmtest.yaml files, or folders of them "
        "(default: the shipped mappings)",
    )
    check.add_argument(
        "--format", choices=("text", "json", "github"), default="text", help="output format"
    )
    check.add_argument("--strict", action="store_true", help="fail on warnings too")
    check.set_defaults(run=_validate)
    _add_explain(commands)
    _add_trace(commands)
    _add_schema(commands)
    _add_handle(commands)
    _add_test_command(commands)
    return parser


def _add_test_command(commands: Any) -> None:
    test = commands.add_parser("test", help="run mapping test cases (*.fmtest.yaml)")
    test.add_argument(
        "paths", metavar="PATH", nargs="*", help="test files or folders (default: the shipped ones)"
    )
    test.add_argument("-v", "--verbose", action="store_true", help="list every case")
    test.add_argument(
        "--coverage", action="store_true", help="list the mapping branches no case exercised"
    )
    test.add_argument(
        "--fail-under",
        metavar="PERCENT",
        type=_percent,
        help="fail when the coverage is below PERCENT (100: every branch)",
    )
    test.set_defaults(run=_test)


def _map(args: argparse.Namespace) -> int:
    mapping, source, context = _mapping_and_input(args)
    result = mapping.apply(source, context, validate=args.validate)
    sys.stdout.write(_dump(result, compact=args.compact) + "\n")
    return 0


def _dump(result: Any, *, compact: bool) -> str:
    try:
        return json.dumps(
            result, indent=None if compact else 2, ensure_ascii=False, allow_nan=False
        )
    except ValueError as exc:  # inf or NaN, e.g. from 1e400 in the input
        raise FulfillmapError(f"the result cannot be written as JSON: {exc}") from None


def _validate(args: argparse.Namespace) -> int:
    from fulfillmap.tooling._reports import REPORTERS, check_file, expand_targets

    targets: list[str] = expand_targets(args.paths) if args.paths else shipped_mapping_names()
    reports = [check_file(target) for target in targets]
    sys.stdout.write(REPORTERS[args.format](reports))
    sys.stdout.flush()
    errors = sum(report.errors for report in reports)
    warnings = sum(report.warnings for report in reports)
    invalid = sum(1 for report in reports if not report.valid(strict=args.strict))
    print(
        f"{len(targets)} file(s) checked, {invalid} invalid "
        f"({errors} error(s), {warnings} warning(s))",
        file=sys.stderr,
    )
    return 1 if invalid else 0


def _add_explain(commands: Any) -> None:
    explain = commands.add_parser("explain", help="print a mapping as a Markdown table")
    explain.add_argument("mapping", metavar="MAPPING", nargs="?", help="a name or a YAML path")
    explain.add_argument("--format", choices=("markdown", "json"), default="markdown")
    explain.add_argument(
        "--update-readme",
        metavar="FILE",
        help="regenerate the '<!-- fulfillmap:explain NAME -->' regions of a Markdown file",
    )
    explain.add_argument(
        "--check", action="store_true", help="with --update-readme: only fail if FILE is stale"
    )
    explain.set_defaults(run=_explain)


def _explain(args: argparse.Namespace) -> int:
    from fulfillmap.tooling._explain import to_json, to_markdown

    if args.update_readme:
        return _update_readme(Path(args.update_readme), check=args.check)
    if not args.mapping:
        raise FulfillmapError("give a MAPPING to explain, or --update-readme FILE")
    spec = load(args.mapping).spec
    if args.format == "json":
        sys.stdout.write(json.dumps(to_json(spec), indent=2, ensure_ascii=False) + "\n")
    else:
        sys.stdout.write(to_markdown(spec))
    return 0


def _update_readme(path: Path, *, check: bool) -> int:
    from fulfillmap.tooling._explain import to_markdown, update_regions

    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise FulfillmapError(f"cannot read {path}: {exc.strerror or exc}") from None
    updated = update_regions(text, lambda name: to_markdown(load(name).spec, heading="####"))
    if updated == text:
        print(f"{path}: up to date", file=sys.stderr)
        return 0
    if check:
        _fail(f"{path} is stale: run `fulfillmap explain --update-readme {path}`")
        return 1
    path.write_text(updated, encoding="utf-8")
    print(f"{path}: updated", file=sys.stderr)
    return 0


def _add_trace(commands: Any) -> None:
    trace = commands.add_parser("trace", help="map one document and show what each field did")
    trace.add_argument("mapping", metavar="MAPPING", help="a shipped mapping's name or a YAML path")
    trace.add_argument("input", metavar="INPUT", nargs="?", default="-", help="a JSON file")
    trace.add_argument("--context", metavar="FILE", help="a JSON object passed as the context")
    trace.add_argument("--format", choices=("text", "json"), default="text")
    trace.add_argument("--no-validate", dest="validate", action="store_false")
    trace.set_defaults(run=_trace)


def _trace(args: argparse.Namespace) -> int:
    from fulfillmap.tooling._render import render_trace, trace_json

    mapping, source, context = _mapping_and_input(args)
    traced = mapping.trace(source, context, validate=args.validate)
    if args.format == "json":
        data = trace_json(traced, mapping.spec.file)
        sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")
    else:
        sys.stdout.write(render_trace(traced, mapping.spec.file))
    return 1 if traced.error else 0


def _add_schema(commands: Any) -> None:
    schema = commands.add_parser("schema", help="print the mapping language's JSON Schema")
    schema.set_defaults(run=_schema)


def _schema(args: argparse.Namespace) -> int:
    del args
    sys.stdout.write(json.dumps(language_schema(), indent=2, ensure_ascii=False) + "\n")
    return 0


def _test(args: argparse.Namespace) -> int:
    from fulfillmap.tooling._testing import Session

    session, passed, failed, broken = Session(), 0, 0, 0
    for case_file in _case_files(args.paths):
        if isinstance(case_file, FulfillmapError):
            broken += 1
            print(_problems(case_file))
            continue
        try:
            session.mapping(case_file.mapping)
        except FulfillmapError as exc:
            broken += 1
            print(f"{case_file.file}: mapping {case_file.mapping} is invalid:\n{_problems(exc)}")
            continue
        for case in case_file.cases:
            result = session.run(case)
            passed, failed = passed + result.passed, failed + (not result.passed)
            if not result.passed:
                print(result.report())
            elif args.verbose:
                print(f"{case.location}: case '{case.name}' passed")
    return _test_summary(args, session, passed, failed, broken)


def _case_files(paths: list[str]) -> Iterator[CaseFile | FulfillmapError]:
    """Each test file named (default: the shipped ones), or the error that it is broken."""
    from fulfillmap.tooling._testing import find_case_files, load_cases, parse_cases

    loaders: list[Callable[[], CaseFile]] = (
        [functools.partial(load_cases, path) for path in find_case_files(paths)]
        if paths
        else [functools.partial(parse_cases, source) for source in shipped_test_files()]
    )
    for loader in loaders:
        try:
            yield loader()
        except FulfillmapError as exc:
            yield exc


def _percent(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value <= 100:
        raise argparse.ArgumentTypeError(f"expected a percentage from 0 to 100, not {text!r}")
    return value


def _problems(error: FulfillmapError) -> str:
    if isinstance(error, SpecError):
        return "\n".join(str(problem) for problem in error.problems)
    return str(error)


def _test_summary(
    args: argparse.Namespace, session: Session, passed: int, failed: int, broken: int
) -> int:
    from fulfillmap.tooling._coverage import format_coverage, total_percent

    report = session.coverage.report()
    below = args.fail_under is not None and total_percent(report) < args.fail_under
    for line in format_coverage(report, details=args.coverage or below):
        print(line)
    sys.stdout.flush()
    errors = f", {broken} file(s) with errors" if broken else ""
    print(f"{passed} passed, {failed} failed{errors}", file=sys.stderr)
    if below:
        _fail(f"coverage {total_percent(report):g}% is below --fail-under {args.fail_under:g}%")
    return 1 if failed or broken or below else 0


def _mapping_and_input(
    args: argparse.Namespace,
) -> tuple[CompiledMapping, Any, dict[str, Any] | None]:
    """``map`` and ``trace``: the mapping (loaded first: a bad one fails before any reading),
    the input document and the context."""
    return load(args.mapping), _read_json(args.input, "input"), _read_context(args.context)


def _read_context(name: str | None) -> dict[str, Any] | None:
    context = _read_json(name, "context") if name else None
    if context is not None and not isinstance(context, dict):
        raise FulfillmapError(f"the context ({name}) must be a JSON object")
    return context


def _read_json(name: str, what: str) -> Any:
    label = "standard input" if name == "-" else name
    try:
        text = sys.stdin.read() if name == "-" else Path(name).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FulfillmapError(f"the {what} file {name} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise FulfillmapError(f"cannot read the {what} {label}: {exc}") from exc
    return parse_json(text, f"the {what} {label}")


def _fail(message: str, stream: TextIO | None = None) -> None:
    print(f"fulfillmap: error: {message}", file=stream or sys.stderr)


# -- handle: webhook events -> actions ----------------------------------------------------


def _add_handle(commands: Any) -> None:
    handle = commands.add_parser(
        "handle",
        help="say what to do with webhook events: one JSON Action per event",
        description=(
            "Read one event (a JSON document), a JSON array of events, or many events (JSON "
            "Lines: one per line) and print one JSON Action per event and line. In a batch, a "
            "bad event is reported on standard error as 'LINE N: message' and the rest goes "
            "on; the exit code is 1 if any event failed."
        ),
    )
    handle.add_argument(
        "input", metavar="INPUT", nargs="?", default="-", help="a file (default: standard input)"
    )
    handle.add_argument(
        "--mappings",
        metavar="DIR",
        help="a directory of your own mappings (and routes.yaml) overriding the shipped ones",
    )
    handle.add_argument("--context", metavar="FILE", help="a JSON object passed to every mapping")
    handle.set_defaults(run=_handle)


@dataclass(frozen=True, slots=True)
class _Item:
    """One event read from the input: ``label`` is ``LINE N``, ``EVENT N`` or ``""`` (the
    whole input); ``error`` is set when the text could not be read as JSON."""

    label: str
    event: Any = None
    error: str | None = None


def _handle(args: argparse.Namespace) -> int:
    from fulfillmap.events._handler import Engine

    engine = Engine(args.mappings)
    context = _read_context(args.context)
    write = _binary_stdout()
    with _open_binary(args.input) as stream:
        progress = _Progress.start(args.input)
        failed = 0
        for item in _read_events(stream, progress):
            message = item.error or _handle_one(engine, item.event, context, write)
            if message is None:
                continue
            failed += 1
            if not item.label:
                raise FulfillmapError(message)
            progress.clear()
            print(f"{item.label}: {message}", file=sys.stderr)
        sys.stdout.flush()
        progress.finish(failed)
    return 1 if failed else 0


def _handle_one(
    engine: Engine, event: Any, context: dict[str, Any] | None, write: Callable[[bytes], Any]
) -> str | None:
    """Write the event's action as a JSON line; return why it failed instead, if it did."""
    try:
        action = engine.handle(event, context)
        line = dump_line(action.to_json(), nulls=_nulls(action))
    except EventError as exc:
        return str(exc)
    except FulfillmapError as exc:  # a MappingError, or a NaN the line cannot hold
        return f"the {event.get('type')} event {event.get('id')}: {exc}"
    write(line)
    return None


def _nulls(action: Action) -> int:
    """How many None values ``action.to_json()`` holds outside the body (see dump_line)."""
    top = (action.method, action.path, action.body, action.mapping, action.reason)
    nulls = sum(value is None for value in top)
    for warning in action.warnings:
        nulls += (not warning.data_path) + (warning.location is None)
    return nulls


def _binary_stdout() -> Callable[[bytes], Any]:
    """A buffered writer of bytes to standard output (``sys.stdout.flush()`` writes it out)."""
    sys.stdout.flush()
    buffer = getattr(sys.stdout, "buffer", None)
    if buffer is not None:
        return cast("Callable[[bytes], Any]", buffer.write)
    return lambda data: sys.stdout.write(data.decode("utf-8", "surrogatepass"))


def _open_binary(name: str) -> IO[bytes]:
    if name == "-":
        return open(sys.stdin.fileno(), "rb", closefd=False)
    try:
        return open(name, "rb")
    except FileNotFoundError:
        raise FulfillmapError(f"the input file {name} does not exist") from None
    except OSError as exc:
        raise FulfillmapError(f"cannot read the input {name}: {exc.strerror or exc}") from exc


def _read_events(stream: IO[bytes], progress: _Progress) -> Iterator[_Item]:
    """The events of the input, streamed line by line when it is JSON Lines.

    The input is JSON Lines when its first non-blank line is a JSON document by itself;
    otherwise it is read whole, as one event or an array of events. (A bad first line of a
    JSON Lines file is recognised by the second line being a document by itself.)
    """
    lines = _numbered_lines(stream, progress)
    first = next(lines, None)
    if first is None:
        return
    document = _loads(first[1])
    if document is not _NOT_JSON:
        second = next(lines, None)
        if second is None and isinstance(document, list):  # an array on one line (jq -c)
            yield from _events_of(document)
            return
        yield from _json_lines(itertools.chain([first], [second] if second else [], lines))
        return
    rest = list(lines)
    if rest and _loads(rest[0][1]) is not _NOT_JSON and _loads(_joined(first, rest)) is _NOT_JSON:
        yield from _json_lines(itertools.chain([first], rest))
        return
    document = parse_json(_joined(first, rest), "the input")
    if isinstance(document, list):
        yield from _events_of(document)
    else:
        yield _Item("", document)


def _events_of(array: list[Any]) -> Iterator[_Item]:
    return (_Item(f"EVENT {n}", event) for n, event in enumerate(array, 1))


def _json_lines(lines: Iterator[tuple[int, str | None]]) -> Iterator[_Item]:
    for number, text in lines:
        if text is None:
            yield _Item(f"LINE {number}", error="the line is not UTF-8 text")
            continue
        try:
            yield _Item(f"LINE {number}", parse_line(text))
        except FulfillmapError as exc:
            yield _Item(f"LINE {number}", error=str(exc))


def _numbered_lines(stream: IO[bytes], progress: _Progress) -> Iterator[tuple[int, str | None]]:
    """Non-blank lines as text (None: not UTF-8), numbered from 1; blank lines are skipped."""
    for number, raw in enumerate(stream, 1):
        progress.advance(len(raw))
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            yield number, None
            continue
        if text.strip():
            yield number, text


def _joined(first: tuple[int, str | None], rest: list[tuple[int, str | None]]) -> str:
    """The whole input as one text; blank lines come back so that error lines are right."""
    parts: list[str] = []
    expected = 1
    for number, text in (first, *rest):
        if text is None:
            raise FulfillmapError(f"the input is not UTF-8 text (line {number})")
        parts += ["\n" * (number - expected), text]
        expected = number + 1
    return "".join(parts)


_NOT_JSON = object()  #: what ``_loads`` gives for text that is not a JSON document


def _loads(text: str | None) -> Any:
    """``text`` as a JSON document (null included), or ``_NOT_JSON``."""
    if text is None:
        return _NOT_JSON
    try:
        return parse_json(text, "")
    except FulfillmapError:
        return _NOT_JSON


@dataclass
class _Progress:
    """A progress line on standard error, when it is a terminal and the input a file."""

    total: int  #: bytes in the input; 0: no progress shown
    done: int = 0
    events: int = 0
    shown_at: float = 0.0

    @classmethod
    def start(cls, name: str) -> _Progress:
        if name == "-" or not sys.stderr.isatty():
            return cls(0)
        try:
            return cls(Path(name).stat().st_size)
        except OSError:
            return cls(0)

    def advance(self, size: int) -> None:
        if not self.total:
            return
        self.done += size
        self.events += 1
        now = time.monotonic()
        if now - self.shown_at >= 0.1:
            self.shown_at = now
            percent = 100 * self.done // self.total
            sys.stderr.write(f"\rfulfillmap handle: {percent}% ({self.events} lines)")
            sys.stderr.flush()

    def clear(self) -> None:
        if self.total and self.shown_at:
            sys.stderr.write("\r\x1b[K")

    def finish(self, failed: int) -> None:
        if self.total:
            self.clear()
            print(f"fulfillmap handle: {self.events} lines, {failed} failed", file=sys.stderr)
