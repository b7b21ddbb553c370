"""One batch run, in its own process: order.accepted events as JSON Lines on stdin ->
request bodies on stdout.

    python bench/batch.py handwritten|fulfillmap MAPPING CONTEXT_FILE < events.jsonl > out

Both pipelines parse, map, validate against the target schema and serialize each line.
``handwritten`` uses the fastest tools installed (orjson, jsonschema-rs); ``fulfillmap`` is
``CompiledMapping.apply`` between the JSON Lines reader and writer of ``fulfillmap handle``
(``fulfillmap.language._jsonio``: orjson where it gives what the json module gives). Prints one
JSON line to stderr: events, seconds in the loop, peak RSS in KiB.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path


def main() -> None:
    mode, name, context_file = sys.argv[1:4]
    context = json.loads(Path(context_file).read_text()) if context_file != "-" else {}
    process = _handwritten(name) if mode == "handwritten" else _fulfillmap(name)
    write, count = sys.stdout.buffer.write, 0
    start = time.perf_counter()
    for line in sys.stdin.buffer:
        if line.strip():
            write(process(line, context))
            count += 1
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"events": count, "seconds": seconds, "peak_kib": peak}), file=sys.stderr)


def _handwritten(name: str):  # type: ignore[no-untyped-def]
    import jsonschema_rs
    import orjson

    sys.path.insert(0, str(Path(__file__).parent))
    import fulfillmap
    from handwritten import MAPPINGS

    mapping = MAPPINGS[name]
    validator = jsonschema_rs.Draft7Validator(dict(fulfillmap.load(name).target_schema))

    def process(line: bytes, context: dict) -> bytes:  # type: ignore[type-arg]
        body = mapping(orjson.loads(line)["data"]["object"], context)
        validator.validate(body)
        return orjson.dumps(body) + b"\n"

    return process


def _fulfillmap(name: str):  # type: ignore[no-untyped-def]
    import fulfillmap
    from fulfillmap.language._jsonio import dump_line, parse_line

    mapping = fulfillmap.load(name)

    def process(line: bytes, context: dict) -> bytes:  # type: ignore[type-arg]
        body = mapping.apply(parse_line(line.decode())["data"]["object"], context)
        return dump_line(body)

    return process


if __name__ == "__main__":
    main()
