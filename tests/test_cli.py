"""The fulfillmap command line: map and validate, their output and exit codes."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from fulfillmap.cli import main
from fulfillmap.plugins._registry import default_registry

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """The installed console script, as a user runs it."""
    script = shutil.which("fulfillmap", path=str(Path(sys.executable).parent))
    assert script, "the fulfillmap console script is installed beside the interpreter"
    return subprocess.run([script, *args], input=stdin, capture_output=True, text=True, check=False)


def test_map_a_file_with_context() -> None:
    done = run(
        "map",
        "order-to-fulfillment-order",
        str(EXAMPLES / "order.json"),
        "--context",
        str(EXAMPLES / "order.context.json"),
    )
    assert done.returncode == 0, done.stderr
    body = json.loads(done.stdout)
    assert body["shippingChoice"] == {"id": "SG", "signatureRequiredType": "adult"}
    assert done.stderr == ""


def test_map_reads_standard_input(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import io

    monkeypatch.setattr(sys, "stdin", io.StringIO((EXAMPLES / "cancelled-event.json").read_text()))
    assert main(["map", "cancelled-event-to-fulfillment", "-", "--compact"]) == 0
    out = capsys.readouterr().out
    assert (
        out == '{"orderId":"278815640336","items":[{"itemId":"183926760336","cancelQuantity":1}]}\n'
    )


def test_map_by_path(tmp_path: Path) -> None:
    from importlib.resources import files

    text = files("fulfillmap.mappings").joinpath("shipped-event-to-fulfillment.yaml").read_text()
    (tmp_path / "mine.yaml").write_text(text)
    done = run("map", str(tmp_path / "mine.yaml"), str(EXAMPLES / "shipped-event.json"))
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["shipmentId"] == "29016544906"


@pytest.mark.parametrize(
    ("stdin", "message"),
    [
        (
            "{",
            "is not valid JSON: Expecting property name enclosed in double quotes at line 1 column 2",
        ),
        ("[1, 2]", "the input must be a JSON object"),
        ('{"a": NaN}', "NaN is not a JSON number"),
        ("", "is not valid JSON"),
        ('{"data": {"object": {"items": []}}}', "field 'orderId': required value is absent"),
    ],
)
def test_map_bad_input(stdin: str, message: str) -> None:
    done = run("map", "cancelled-event-to-fulfillment", stdin=stdin)
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.startswith("fulfillmap: error: ")
    assert message in done.stderr
    assert "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, "one paragraph (the trace: --verbose)"


def test_map_invalid_result_and_no_validate(tmp_path: Path) -> None:
    event = json.loads((EXAMPLES / "shipped-event.json").read_text())
    event["data"]["object"]["trackingNumber"] = 794612345678
    path = tmp_path / "event.json"
    path.write_text(json.dumps(event))
    done = run("map", "shipped-event-to-fulfillment", str(path))
    assert done.returncode == 1
    assert "trackingNumber: expected text, not 794612345678" in done.stderr
    done = run("map", "shipped-event-to-fulfillment", str(path), "--no-validate")
    assert done.returncode == 0
    assert json.loads(done.stdout)["trackingNumber"] == 794612345678


def test_map_missing_files_and_unknown_mapping(tmp_path: Path) -> None:
    done = run("map", "cancelled-event-to-fulfillment", str(tmp_path / "nope.json"))
    assert (done.returncode, done.stdout) == (1, "")
    assert "does not exist" in done.stderr
    done = run("map", "nope", str(EXAMPLES / "order.json"))
    assert done.returncode == 1
    assert "no mapping named 'nope'" in done.stderr
    done = run(
        "map",
        "order-to-fulfillment-order",
        str(EXAMPLES / "order.json"),
        "--context",
        str(EXAMPLES / "order.json").replace("order.json", "missing.json"),
    )
    assert done.returncode == 1
    assert "context file" in done.stderr


def test_map_context_must_be_an_object(tmp_path: Path) -> None:
    (tmp_path / "c.json").write_text("[]")
    done = run(
        "map",
        "order-to-fulfillment-order",
        str(EXAMPLES / "order.json"),
        "--context",
        str(tmp_path / "c.json"),
    )
    assert done.returncode == 1
    assert "must be a JSON object" in done.stderr


def test_validate_shipped_mappings() -> None:
    done = run("validate")
    assert done.returncode == 0, done.stdout
    assert done.stdout.count(": ok") >= 3
    assert "invalid" in done.stderr


def test_validate_a_broken_file(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text(
        "name: broken\nsource: {name: s, schema: 'fulfillmap:order.schema.json'}\n"
        "target: {name: t, schema: 'fulfillmap:fulfillment-cancel-request.schema.json'}\n"
        "fields:\n  orderId: {from: 'data.[', required: true}\n  items: {plugin: nope}\n  extra: {frm: x}\n"
    )
    done = run("validate", str(broken))
    assert done.returncode == 1
    lines = done.stdout.splitlines()
    known = ", ".join(sorted(default_registry().fields))  # the example plugin's field too
    assert known.startswith("duties-paid, ")
    assert lines == [
        f"{broken}:5:26: invalid JMESPath expression `data.[`: the expression ends too early "
        "at character 7 (at fields.orderId.from)",
        f"{broken}:6:19: unknown plugin field 'nope'; known: {known} (at fields.items.plugin)",
        f"{broken}:7:3: the target schema has no field 'extra' (at fields.extra)",
        f"{broken}:7:10: give exactly one of from, value, plugin or fields (at fields.extra)",
        f"{broken}:7:11: unknown key 'frm' (did you mean 'from'?); allowed: args, default, "
        "description, each, fields, from, plugin, required, scope, value, where (at fields.extra.frm)",
    ]


def test_usage_errors_exit_2() -> None:
    assert run().returncode == 2
    assert run("map").returncode == 2
    assert run("frobnicate").returncode == 2


@pytest.mark.parametrize(
    ("stdin", "message"),
    [
        (
            '{"data": {"object": {"upstreamId": "1", "upstreamId": "2"}}}',
            'duplicate key "upstreamId" in one object (the last would win silently) at line 1 '
            "column 41",
        ),
        ('{"data": {"object": {"upstreamId": "\\udc80"}}}', "lone surrogate escape"),
    ],
)
def test_map_refuses_silent_data_loss(stdin: str, message: str) -> None:
    done = run("map", "cancelled-event-to-fulfillment", "--no-validate", stdin=stdin)
    assert (done.returncode, done.stdout) == (1, "")
    assert message in done.stderr


def test_map_keeps_the_digits_of_numbers(tmp_path: Path) -> None:
    """G3: 1e400 was infinity and 1.6050000000000000001 became 1.605; now both keep their
    digits from the input to the output."""
    schema = Path(__file__).parent / "mappings" / "open.schema.json"
    (tmp_path / "open.schema.json").write_text(schema.read_text())
    (tmp_path / "m.yaml").write_text(
        "name: m\nsource: {name: s, schema: open.schema.json}\n"
        "target: {name: t, schema: open.schema.json}\n"
        "fields:\n  big: big\n  items:\n    each: items\n    fields:\n      amount: amount\n"
    )
    stdin = '{"big": 1e400, "items": [{"amount": 1.6050000000000000001}]}'
    done = run("map", str(tmp_path / "m.yaml"), "--compact", stdin=stdin)
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout == '{"big":1E+400,"items":[{"amount":1.6050000000000000001}]}\n'


def test_validate_a_folder_checks_mappings_routes_and_test_files(tmp_path: Path) -> None:
    from importlib.resources import files

    shipped = files("fulfillmap.mappings")
    (tmp_path / "mine.yaml").write_text(
        shipped.joinpath("cancelled-event-to-fulfillment.yaml")
        .read_text()
        .replace("name: cancelled-event-to-fulfillment", "name: my-cancel")
    )
    (tmp_path / "routes.yaml").write_text(
        "routes:\n"
        "  fulfillment_order.cancelled:\n"
        "    mapping: my-cancel\n"
        "    request: POST /fulfillments\n"
        "  fulfillment_order.shipped:\n"
        "    mapping: no-such-mapping\n"
        "    request: POST /fulfillments\n"
    )
    (tmp_path / "mine.fmtest.yaml").write_text("mapping: my-cancel\ncases: []\nextra: 1\n")
    done = run("validate", str(tmp_path))
    assert done.returncode == 1
    out = done.stdout
    assert f"{tmp_path / 'mine.yaml'}: ok" in out
    assert f"{tmp_path / 'routes.yaml'}:6:" in out
    assert "no-such-mapping" in out
    assert f"{tmp_path / 'mine.fmtest.yaml'}:" in out
    assert "extra" in out
    assert "3 file(s) checked, 2 invalid" in done.stderr


def test_validate_a_folder_reports_two_mappings_of_one_name_as_the_engine_does(
    tmp_path: Path,
) -> None:
    """QA finding: validate passed a folder that Engine(folder) and handle --mappings refuse."""
    from importlib.resources import files

    from fulfillmap import Engine
    from fulfillmap.errors import SpecError

    shipped = files("fulfillmap.mappings")
    text = shipped.joinpath("shipped-event-to-fulfillment.yaml").read_text()
    text = text.replace("name: shipped-event-to-fulfillment", "name: my-ship")
    for name in ("a.yaml", "b.yaml"):
        (tmp_path / name).write_text(text)
    (tmp_path / "routes.yaml").write_text(shipped.joinpath("routes.yaml").read_text())
    line = next(n for n, row in enumerate(text.splitlines(), 1) if row.startswith("name:"))
    expected = (
        f"{tmp_path / 'b.yaml'}:{line}:1: another mapping is already named 'my-ship': "
        f"{tmp_path / 'a.yaml'}:{line}:1 (at name)"
    )
    with pytest.raises(SpecError) as caught:
        Engine(tmp_path)
    assert [str(problem) for problem in caught.value.problems] == [expected]
    done = run("validate", str(tmp_path))
    assert done.returncode == 1
    assert done.stdout.splitlines() == [
        f"{tmp_path / 'a.yaml'}: ok",
        expected,
        f"{tmp_path / 'routes.yaml'}: ok",
    ]
    assert "3 file(s) checked, 1 invalid (1 error(s), 0 warning(s))" in done.stderr


def test_a_file_that_is_not_utf8_is_reported_at_its_bad_byte(tmp_path: Path) -> None:
    """QA finding: a Latin-1 mapping was reported at 1:1, wherever its bad byte was. Mapping,
    routes and test files are read by one reader; an input file names the place too."""
    from fulfillmap import Engine
    from fulfillmap.errors import SpecError

    mapping = "name: m\n" * 6 + "description: caf\xe9\n"
    (tmp_path / "latin1.yaml").write_bytes(mapping.encode("latin-1"))
    (tmp_path / "routes.yaml").write_bytes("routes:\n  # d\xe9j\xe0\n".encode("latin-1"))
    (tmp_path / "m.fmtest.yaml").write_bytes("mapping: m\n\u00e9\xe9\n".encode("latin-1"))
    (tmp_path / "utf8.yaml").write_bytes("# \u00e9\u00e9 \xff".encode("latin-1"))
    done = run("validate", str(tmp_path))
    assert done.returncode == 1
    assert done.stdout.splitlines() == [
        f"{tmp_path / 'latin1.yaml'}:7:17: cannot read mapping file: it is not UTF-8 text "
        "(byte 0xE9)",
        f"{tmp_path / 'm.fmtest.yaml'}:2:1: cannot read test file: it is not UTF-8 text "
        "(byte 0xE9)",
        f"{tmp_path / 'routes.yaml'}:2:6: cannot read routes file: it is not UTF-8 text "
        "(byte 0xE9)",
        f"{tmp_path / 'utf8.yaml'}:1:3: cannot read mapping file: it is not UTF-8 text (byte 0xE9)",
    ]
    (tmp_path / "utf8.yaml").write_bytes("# \u00e9\u00e9 ".encode() + b"\xff")  # 2 characters
    done = run("validate", str(tmp_path / "utf8.yaml"))
    assert (
        done.stdout
        == f"{tmp_path / 'utf8.yaml'}:1:6: cannot read mapping file: it is not UTF-8 text (byte 0xFF)\n"
    )
    with pytest.raises(SpecError) as caught:
        Engine(tmp_path)
    assert [(p.line, p.column) for p in caught.value.problems] == [(7, 17), (1, 6)]
    (tmp_path / "context.json").write_bytes(b'{\n  "a": "\xe9"}')
    context = str(tmp_path / "context.json")
    done = run("map", "cancelled-event-to-fulfillment", "--context", context, stdin="{}")
    assert done.stderr == (
        f"fulfillmap: error: {context}:2:9: cannot read the context file: it is not UTF-8 text "
        "(byte 0xE9)\n"
    )


def test_map_reports_warn_rules_on_stderr() -> None:
    done = run("map", "order-to-fulfillment-order", str(EXAMPLES / "order.json"))
    assert done.returncode == 0
    assert "signatureRequiredType" not in json.loads(done.stdout)["shippingChoice"]
    assert done.stderr.startswith(
        "fulfillmap: warning: mapping 'order-to-fulfillment-order', rule 'shipping-quote-given': "
        "no shipping quote in the context (shippingQuote)"
    )
    assert done.stderr.count("\n") == 1
