"""The playground's server and API, without a browser (tests/test_playground_browser.py drives
the page): it says what validate, map and trace say, refuses what it must, survives bad
requests, and writes only the mapping it was opened on and that mapping's test file."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fulfillmap import shipped_mappings
from fulfillmap.language._resources import shipped_test_files
from fulfillmap.tooling._reports import check_mapping
from fulfillmap.tooling._testing import parse_cases
from fulfillmap.tooling.playground import Playground, open_mapping, serve
from fulfillmap.tooling.playground._engine import evaluate
from fulfillmap.tooling.playground._files import examples
from fulfillmap.tooling.playground._server import MAX_BODY

REPO = Path(__file__).resolve().parent.parent
MAPPINGS = REPO / "mappings"
ORDER = "order-to-fulfillment-order"
BIN = Path(sys.executable).parent


@dataclass
class Client:
    url: str
    playground: Playground

    def call(
        self, path: str, body: Any = None, *, raw: bytes | None = None, headers: Any = None
    ) -> tuple[int, dict[str, Any]]:
        data = raw if raw is not None else None if body is None else json.dumps(body).encode()
        sent = {"X-Playground-Token": self.playground.token, **(headers or {})}
        request = urllib.request.Request(self.url + path, data=data, headers=sent)
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return response.status, json.load(response)
        except urllib.error.HTTPError as error:
            return error.code, json.load(error)

    def evaluate(self, mapping: str, input: Any, context: Any = None) -> dict[str, Any]:
        status, data = self.call(
            "/api/evaluate",
            {
                "mapping": mapping,
                "input": json.dumps(input),
                "context": "" if context is None else json.dumps(context),
            },
        )
        assert status == 200, data
        return data


def start(reference: str, **options: Any) -> Iterator[Client]:
    playground = Playground(open_mapping(reference), "", "", **options)
    server, _ = serve(playground, 0)
    try:
        yield Client(f"http://127.0.0.1:{server.server_address[1]}", playground)
    finally:
        server.shutdown()
        server.server_close()
        playground.worker.close()


@pytest.fixture(scope="module")
def shipped() -> Iterator[Client]:
    """A playground on the shipped order mapping, opened by name (read-only)."""
    yield from start(ORDER)


@pytest.fixture
def copied(tmp_path: Path) -> Iterator[Client]:
    """A playground on a copy of the order mapping and its test file (writable)."""
    yield from start(str(copy_mapping(tmp_path)))


def copy_mapping(folder: Path) -> Path:
    mapping = folder / f"{ORDER}.yaml"
    mapping.write_text((MAPPINGS / f"{ORDER}.yaml").read_text())
    tests = (MAPPINGS / f"{ORDER}.fmtest.yaml").read_text()
    tests = tests.replace(f"mapping: {ORDER}\n", f"mapping: {ORDER}.yaml\n", 1)
    (folder / f"{ORDER}.fmtest.yaml").write_text(tests)
    return mapping


def session(client: Client) -> dict[str, Any]:
    status, data = client.call("/api/session")
    assert status == 200, data
    return data


def cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "fulfillmap"), *args], capture_output=True, text=True, check=False, cwd=cwd
    )


# -- what the page shows is what the commands say --------------------------------------------


def test_session_offers_the_mapping_and_its_test_cases_as_examples(shipped: Client) -> None:
    data = session(shipped)
    assert data["writable"] is False
    assert data["mapping"] == (MAPPINGS / f"{ORDER}.yaml").read_text()
    names = [example["name"] for example in data["examples"]]
    assert names[0] == "e1-us-domestic"
    assert data["input"] == data["examples"][0]["input"]
    assert json.loads(data["context"])["shippingQuote"]["id"] == "SG"


def test_output_and_trace_are_those_of_map_and_trace(shipped: Client, tmp_path: Path) -> None:
    data = session(shipped)
    (tmp_path / "in.json").write_text(data["input"])
    (tmp_path / "ctx.json").write_text(data["context"])
    files = ("in.json", "--context", "ctx.json")
    mapped = cli("map", ORDER, *files, cwd=tmp_path)
    traced = cli("trace", ORDER, *files, "--format", "json", cwd=tmp_path)
    shown = shipped.evaluate(
        data["mapping"], json.loads(data["input"]), json.loads(data["context"])
    )
    assert shown["error"] is None
    assert shown["output"] == json.loads(mapped.stdout)
    expected = json.loads(traced.stdout)
    for step in shown["trace"]["steps"]:
        assert (step.pop("line"), step.pop("column")) == tuple(
            int(part) for part in step["location"].rsplit(":", 2)[1:]
        )
    assert shown["trace"] == expected


def test_the_error_is_the_one_paragraph_map_prints(shipped: Client, tmp_path: Path) -> None:
    data = session(shipped)
    order = json.loads(data["input"])
    del order["currency"]
    (tmp_path / "in.json").write_text(json.dumps(order))
    mapped = cli("map", ORDER, "in.json", cwd=tmp_path)
    shown = shipped.evaluate(data["mapping"], order)
    assert shown["output"] is None
    assert mapped.stderr.splitlines()[-1] == f"fulfillmap: error: {shown['error']}"
    assert len(shown["warnings"]) == 1  # the quote's, found before the error, as map prints it
    assert "rule 'shipping-quote-given'" in mapped.stderr.splitlines()[0]
    assert "field 'currency': required value is absent" in shown["error"]
    assert shown["trace"]["steps"][1]["outcome"] == "failed"


def test_problems_are_those_validate_reports(copied: Client) -> None:
    path = copied.playground.opened.path
    assert path is not None
    text = path.read_text().replace("  currency:\n", "  curency:\n", 1)
    path.write_text(text)
    shown = copied.evaluate(text, {})
    expected = check_mapping(str(path)).problems
    assert [problem["text"] for problem in shown["problems"]] == [str(p) for p in expected]
    line = text.splitlines().index("  curency:") + 1
    [typo] = [problem for problem in shown["problems"] if "curency" in problem["message"]]
    assert (typo["line"], typo["column"]) == (line, 3)
    count = f"{len(expected)} problem{'s' if len(expected) > 1 else ''}"
    assert shown["error"] == f"the mapping is invalid ({count}, listed under Problems)"
    assert shown["trace"] is None


def test_lint_warnings_are_shown_and_the_mapping_still_runs(shipped: Client) -> None:
    data = session(shipped)
    text = data["mapping"].replace("[shipTo.email, billTo.email]", "[shipTo.emial, billTo.email]")
    shown = shipped.evaluate(text, json.loads(data["input"]), json.loads(data["context"]))
    line = text.splitlines().index("  email:") + 1  # the field's line
    [problem] = shown["problems"]
    assert (problem["severity"], problem["line"]) == ("warning", line)
    assert "`shipTo.emial` reads" in problem["message"]
    assert shown["error"] is None
    assert shown["output"]["email"] == json.loads(data["input"])["billTo"]["email"]


@pytest.mark.parametrize(
    ("input_text", "context_text", "message"),
    [
        ("{", "", "the input is not valid JSON: Expecting property name"),
        ("{}", "[1]", "the context must be a JSON object"),
        ("[" * 100_000, "", "the input nests arrays and objects more than 128 deep"),
        (
            '{"a": 1, "a": 2}',
            "",
            'duplicate key "a" in one object (the last would win silently) at line 1 column 10',
        ),
    ],
)
def test_bad_payloads_are_a_clear_error(
    shipped: Client, input_text: str, context_text: str, message: str
) -> None:
    mapping = session(shipped)["mapping"]
    status, shown = shipped.call(
        "/api/evaluate", {"mapping": mapping, "input": input_text, "context": context_text}
    )
    assert status == 200
    assert message in shown["error"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name: x\nfields:\n  a: " + "[" * 50_000, "exceeded maximum nesting depth"),
        (
            'a: &a ["x","x","x","x","x","x","x","x","x","x"]\n'
            + "".join(
                f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 10)}]\n"
                for i in range(8)
            ),
            "more than 200,000 values once its aliases are expanded",
        ),
        ("a: [\n", "invalid YAML"),
    ],
    ids=["deep-nesting", "yaml-bomb", "broken-yaml"],
)
def test_hostile_mappings_are_problems(shipped: Client, text: str, message: str) -> None:
    shown = shipped.evaluate(text, {})
    assert message in shown["problems"][0]["message"]
    assert shown["error"].startswith("the mapping is invalid")


@pytest.mark.parametrize("name", shipped_mappings())
def test_every_shipped_mapping_opens_with_its_test_cases_as_examples(name: str) -> None:
    opened = open_mapping(name)
    shown, note = examples(opened)
    assert (opened.path, note) == (None, "")
    assert [example["name"] for example in shown] == [
        case.name for case in parse_cases(source_of(name)).cases
    ]
    first = shown[0]
    result = evaluate(opened.text, opened.file, "", first["input"], first["context"] or "")
    assert [p for p in result["problems"] if p["severity"] == "error"] == []
    assert result["trace"]["mapping"] == name


def source_of(name: str) -> Any:
    (source,) = (s for s in shipped_test_files() if Path(s.file).name == f"{name}.fmtest.yaml")
    return source


# -- bad requests: a clear error, never a dead server ----------------------------------------


def test_a_huge_body_is_refused_and_the_server_carries_on(shipped: Client) -> None:
    status, data = shipped.call("/api/evaluate", raw=b"x" * (MAX_BODY + 1))
    assert status == 413
    assert "the request is too large" in data["error"]
    assert session(shipped)["reference"] == ORDER


def test_invalid_utf8_and_non_json_bodies_are_refused(shipped: Client) -> None:
    status, data = shipped.call("/api/evaluate", raw=b'{"mapping": "\xff"}')
    assert (status, data["error"]) == (400, "the request is not valid UTF-8 (byte 13)")
    status, data = shipped.call("/api/evaluate", raw=b"[1]")
    assert (status, data["error"]) == (400, "the request must be a JSON object")
    status, data = shipped.call("/api/evaluate", {"mapping": 1})
    assert (status, data["error"]) == (400, "'mapping' must be text")


def test_a_slow_evaluation_is_stopped_and_the_next_one_runs(tmp_path: Path) -> None:
    for client in start(ORDER, timeout=60):
        mapping = session(client)["mapping"]
        client.evaluate(mapping, {})  # the worker is up
        client.playground.worker.timeout = 0.001
        order = {"id": "1", "items": [{"id": str(n), "quantity": 1} for n in range(20_000)]}
        status, data = client.call(
            "/api/evaluate", {"mapping": mapping, "input": json.dumps(order), "context": ""}
        )
        assert status == 422
        assert data["error"].startswith("stopped after 0.001 seconds: the evaluation took too long")
        client.playground.worker.timeout = 60
        assert "rule 'order-has-id'" in client.evaluate(mapping, {})["error"]


def test_requests_without_the_token_or_from_another_host_are_refused(shipped: Client) -> None:
    status, data = shipped.call("/api/session", headers={"X-Playground-Token": "guess"})
    assert status == 403
    assert "does not come from the playground page" in data["error"]
    for path, body in (("/api/session", None), ("/", None), ("/api/save-mapping", {})):
        status, data = shipped.call(path, body, headers={"Host": "evil.example:80"})
        assert (status, data) == (
            403,
            {"error": "refused: Host 'evil.example:80' is not this server"},
        )


def test_the_page_and_only_its_static_files_are_served(shipped: Client) -> None:
    with urllib.request.urlopen(shipped.url + "/") as response:
        page = response.read().decode()
    assert shipped.playground.token in page
    assert 'data-testid="mapping"' in page
    for name in ("app.js", "style.css", "codemirror.js"):
        with urllib.request.urlopen(f"{shipped.url}/static/{name}") as response:
            assert response.status == 200
    for path in ("/static/../_server.py", "/static/__init__.py", "/etc/passwd"):
        status, _ = shipped.call(path)
        assert status == 404


# -- writing files: only the mapping and its test file, only on request ----------------------


def test_a_shipped_mapping_is_read_only(shipped: Client) -> None:
    mapping = session(shipped)["mapping"]
    status, data = shipped.call("/api/save-mapping", {"mapping": mapping + "# x\n"})
    assert status == 403
    assert "read-only" in data["error"]
    assert (MAPPINGS / f"{ORDER}.yaml").read_text() == mapping


def test_save_mapping_writes_the_file_it_was_opened_from(copied: Client, tmp_path: Path) -> None:
    path = tmp_path / f"{ORDER}.yaml"
    text = path.read_text().replace("upper(currency)", "lower(currency)")
    status, data = copied.call("/api/save-mapping", {"mapping": text, "path": "/tmp/elsewhere"})
    assert (status, data["message"]) == (200, f"saved {path}")
    assert path.read_text() == text
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        f"{ORDER}.fmtest.yaml",
        f"{ORDER}.yaml",
    ]


def test_save_as_test_case_appends_a_case_that_fulfillmap_test_passes(
    copied: Client, tmp_path: Path
) -> None:
    data = session(copied)
    before = (tmp_path / f"{ORDER}.fmtest.yaml").read_text()
    order = json.loads(data["input"])
    order["currency"] = "eur"
    request = {**data, "input": json.dumps(order), "name": "euro-order"}
    status, answer = copied.call("/api/save-case", request)
    assert status == 200, answer
    assert answer["examples"][-1]["name"] == "euro-order"
    after = (tmp_path / f"{ORDER}.fmtest.yaml").read_text()
    assert after.startswith(before.rstrip())
    assert "  - name: euro-order\n    input:\n" in after
    failing = {**request, "input": "{}", "context": "", "name": "no-currency"}
    assert copied.call("/api/save-case", failing)[0] == 200
    tested = cli("test", "-v", str(tmp_path))
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert "case 'euro-order' passed" in tested.stdout
    assert "case 'no-currency' passed" in tested.stdout
    status, answer = copied.call("/api/save-case", request)
    assert status == 422
    assert "another case is already named 'euro-order'" in answer["error"]


def test_save_as_test_case_needs_the_mapping_saved_first(copied: Client, tmp_path: Path) -> None:
    data = session(copied)
    edited = data["mapping"].replace("upper(currency)", "lower(currency)")
    status, answer = copied.call("/api/save-case", {**data, "mapping": edited, "name": "x"})
    assert status == 400
    assert answer["error"].startswith("save the mapping first")


def test_save_as_test_case_creates_the_test_file(tmp_path: Path) -> None:
    mapping = copy_mapping(tmp_path)
    (tmp_path / f"{ORDER}.fmtest.yaml").unlink()
    for client in start(str(mapping)):
        data = session(client)
        assert data["examples"] == []
        request = {**data, "input": '{"id": "1", "currency": "usd"}', "name": "first"}
        status, answer = client.call("/api/save-case", request)
        assert status == 200, answer
    created = (tmp_path / f"{ORDER}.fmtest.yaml").read_text()
    assert created.startswith(f"mapping: {ORDER}.yaml\ncases:\n  - name: first\n")
    tested = cli("test", str(tmp_path))
    assert tested.returncode == 0, tested.stdout + tested.stderr


@pytest.mark.parametrize(
    ("test_file", "message"),
    [
        (
            f"mapping: {ORDER}\ncases:\n  - name: a\n    input: {{}}\n    expect: {{contains: {{}}}}\n",
            f"tests mapping '{ORDER}', not",
        ),
        (
            f"cases:\n  - name: a\n    input: {{}}\n    expect: {{contains: {{}}}}\nmapping: {ORDER}.yaml\n",
            "its cases must be its last key",
        ),
    ],
    ids=["names-another-mapping", "cases-not-last"],
)
def test_save_as_test_case_refuses_a_test_file_it_cannot_append_to(
    tmp_path: Path, test_file: str, message: str
) -> None:
    mapping = copy_mapping(tmp_path)
    (tmp_path / f"{ORDER}.fmtest.yaml").write_text(test_file)
    for client in start(str(mapping)):
        request = {**session(client), "input": "{}", "name": "b"}
        status, answer = client.call("/api/save-case", request)
        assert status == 422
        assert message in answer["error"]
    assert (tmp_path / f"{ORDER}.fmtest.yaml").read_text() == test_file


# -- the command ---------------------------------------------------------------------------


def test_the_command_says_it_listens_on_127_0_0_1_only(tmp_path: Path) -> None:
    process = subprocess.Popen(
        [str(BIN / "fulfillmap"), "playground", "--no-browser", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        assert first.startswith("fulfillmap playground: http://127.0.0.1:")
        assert "listening on 127.0.0.1 only" in process.stdout.readline()
        port = int(first.rsplit(":", 1)[1].strip(" /\n"))
        with socket.create_connection(("127.0.0.1", port), timeout=10):
            pass
    finally:
        process.terminate()  # SIGTERM stops it as Ctrl+C does: the worker and the port freed
        _, stderr = process.communicate(timeout=30)
    assert (process.returncode, stderr) == (0, "fulfillmap playground: stopped\n")
    with socket.socket() as again:
        again.bind(("127.0.0.1", port))


def test_the_command_refuses_a_port_in_use_and_a_bad_file() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = cli("playground", "--no-browser", "--port", str(port))
    assert result.returncode == 1
    assert result.stderr.startswith(f"fulfillmap: error: cannot listen on 127.0.0.1:{port}: ")
    result = cli("playground", "--no-browser", "--input", "missing.json")
    assert (result.returncode, result.stderr) == (
        1,
        "fulfillmap: error: the input file missing.json does not exist\n",
    )
    result = cli("playground", "no-such-mapping", "--no-browser")
    assert result.returncode == 1
    assert "no mapping named 'no-such-mapping'" in result.stderr
    assert cli("playground", "--port", "70000").returncode == 2


def test_the_core_library_does_not_import_the_playground() -> None:
    code = "import fulfillmap, sys; fulfillmap.load('order-to-fulfillment-order'); " + (
        "print(any(m.startswith('fulfillmap.tooling.playground') for m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=os.environ
    )
    assert result.stdout == "False\n"
