"""Each plugin field function is called exactly once per field evaluation, whatever rules
fire and whether the mapping fails, through every way of running a mapping: ``apply``,
``apply_with_warnings`` (``run``), ``trace``, an error's lazily computed ``trace``,
``fulfillmap test`` (the testing session) and ``Engine.handle``."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import fulfillmap
import pluggy
import pytest
from fulfillmap.plugins import FieldInput, JMESPathFunction, hookimpl
from fulfillmap.tooling._testing import Session, load_cases

MAPPING = """\
name: counted
source: {name: s, schema: open.json}
target: {name: t, schema: open.json}
fields:
  total: {plugin: count}
  lines:
    each: items
    fields:
      sku: {from: sku, required: true}
      label: {plugin: count}
rules:
  - {name: few, each: items, check: "n < `3`", message: many, severity: warn}
  - {name: some, on: result, check: "length(lines) > `0`", message: no lines, severity: warn}
  - {name: positive, each: items, check: "n >= `0`", message: negative}
"""

OPEN = '{"type": "object"}'


class Counting:
    """A plugin whose field function counts its calls."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    @hookimpl
    def fulfillmap_fields(self) -> dict[str, Callable[[FieldInput], Any]]:
        return {"count": self.count}

    def count(self, data: FieldInput) -> Any:
        self.calls.append(data.target_path)
        return len(self.calls)


def items(*numbers: int, sku: bool = True) -> dict[str, Any]:
    return {"items": [{"n": n, **({"sku": f"s{n}"} if sku else {})} for n in numbers]}


#: (input, what happens): fields evaluated once each, before any failure
CASES = [
    (items(1, 2), "ok"),  # no rule fires
    (items(5, 7), "warned"),  # a warn rule fires on each line
    (items(), "warned"),  # a result warn rule fires
    (items(1, 2, sku=False), "failed"),  # the first line's required sku is absent
    (items(1, -1), "failed"),  # an error rule: no field is evaluated
]


def expected_calls(source: dict[str, Any], outcome: str) -> list[str]:
    if any(item["n"] < 0 for item in source["items"]):
        return []  # the source rules run before any field
    calls = ["total"]
    for item in source["items"]:
        if "sku" not in item:
            return calls
        calls.append("lines[].label")
    return calls


def counted(folder: Path, *, entry_points: bool = False) -> tuple[pluggy.PluginManager, Counting]:
    """The mapping written in ``folder``, and a plugin manager with a counting plugin."""
    (folder / "open.json").write_text(OPEN)
    (folder / "counted.yaml").write_text(MAPPING)
    plugin = Counting()
    manager = fulfillmap.plugin_manager(entry_points=entry_points)
    manager.register(plugin, name="counting")
    return manager, plugin


@pytest.fixture
def counting(tmp_path: Path) -> tuple[fulfillmap.CompiledMapping, Counting]:
    manager, plugin = counted(tmp_path)
    return fulfillmap.load(tmp_path / "counted.yaml", plugins=manager), plugin


def _apply(mapping: fulfillmap.CompiledMapping, source: Any) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", fulfillmap.FulfillmapWarning)
        mapping.apply(source)


RUNS: dict[str, Callable[[fulfillmap.CompiledMapping, Any], Any]] = {
    "apply": _apply,
    "apply_with_warnings": lambda mapping, source: mapping.apply_with_warnings(source),
    "run": lambda mapping, source: mapping.run(source),
    "trace": lambda mapping, source: mapping.trace(source),
}


@pytest.mark.parametrize("way", sorted(RUNS))
@pytest.mark.parametrize(("source", "outcome"), CASES)
def test_each_plugin_call_happens_once(
    counting: tuple[fulfillmap.CompiledMapping, Counting], way: str, source: Any, outcome: str
) -> None:
    mapping, plugin = counting
    try:
        RUNS[way](mapping, source)
    except fulfillmap.MappingError:
        assert outcome == "failed"
    assert plugin.calls == expected_calls(source, outcome)


@pytest.mark.parametrize(("source", "outcome"), [case for case in CASES if case[1] == "failed"])
def test_a_failure_costs_one_call_and_its_trace_one_more_run(
    counting: tuple[fulfillmap.CompiledMapping, Counting], source: Any, outcome: str
) -> None:
    mapping, plugin = counting
    with pytest.raises(fulfillmap.MappingError) as caught:
        mapping.apply(source)
    once = expected_calls(source, outcome)
    assert plugin.calls == once, "the failure itself calls each plugin once"
    assert caught.value.details()  # the trace is computed now: the mapping runs once more
    assert plugin.calls == once + once
    caught.value.details()
    assert plugin.calls == once + once, "and only once"


def test_fulfillmap_test_calls_each_plugin_once(tmp_path: Path) -> None:
    manager, plugin = counted(tmp_path)
    (tmp_path / "counted.fmtest.yaml").write_text(
        "mapping: counted.yaml\n"
        "cases:\n"
        "  - name: two lines, both warned\n"
        "    input: {items: [{n: 5, sku: a}, {n: 6, sku: b}]}\n"
        "    expect: {output: {total: 1, lines: [{sku: a, label: 2}, {sku: b, label: 3}]}}\n"
    )
    (case,) = load_cases(tmp_path / "counted.fmtest.yaml").cases
    result = Session(plugins=manager).run(case)
    assert not result.problems, result.problems
    assert plugin.calls == ["total", "lines[].label", "lines[].label"]


@pytest.mark.parametrize(("source", "outcome"), CASES)
def test_engine_handle_calls_each_plugin_once(
    tmp_path: Path, source: dict[str, Any], outcome: str
) -> None:
    manager, plugin = counted(tmp_path, entry_points=True)
    (tmp_path / "routes.yaml").write_text(
        "routes:\n"
        "  order.accepted:\n"
        "    mapping: counted\n"
        "    input: data.object\n"
        "    request: POST /fulfillment-orders\n"
    )
    engine = fulfillmap.Engine(tmp_path, plugins=manager)
    event = {"id": "e1", "type": "order.accepted", "data": {"object": source}}
    if outcome == "failed":
        with pytest.raises(fulfillmap.MappingError, match=r"at input path data\.object\.items"):
            engine.handle(event)
    else:
        engine.handle(event)
    assert plugin.calls == expected_calls(source, outcome)


# -- what plugins see and may return ----------------------------------------------------------


class Hostile:
    """A plugin whose field functions misbehave in the ways a careless plugin would."""

    @hookimpl
    def fulfillmap_fields(self) -> dict[str, Callable[[FieldInput], Any]]:
        return {
            "mutate": lambda data: data.current["items"].append(1),
            "mutate-context": lambda data: data.context.pop("k"),
            "a-set": lambda data: {1, 2},
            "bytes-inside": lambda data: {"x": [b"raw"]},
            "echo": lambda data: data.current["items"],
        }


@pytest.mark.parametrize(
    ("plugin", "message"),
    [
        ("mutate", "plugin 'mutate' failed: AttributeError: 'ReadOnlyList' object has no "),
        ("mutate-context", "plugin 'mutate-context' failed: AttributeError:"),
        ("a-set", "plugin 'a-set' returned a set, which is not JSON"),
        ("bytes-inside", "plugin 'bytes-inside' returned a bytes, which is not JSON"),
    ],
)
def test_plugins_cannot_change_the_input_nor_return_what_is_not_json(
    tmp_path: Path, plugin: str, message: str
) -> None:
    (tmp_path / "open.json").write_text(OPEN)
    (tmp_path / "m.yaml").write_text(
        "name: m\nsource: {name: s, schema: open.json}\ntarget: {name: t, schema: open.json}\n"
        f"fields:\n  x: {{plugin: {plugin}}}\n"
    )
    manager = fulfillmap.plugin_manager(entry_points=False)
    manager.register(Hostile(), name="hostile")
    mapping = fulfillmap.load(tmp_path / "m.yaml", plugins=manager)
    source, context = {"items": [{"n": 1}]}, {"k": "v"}
    with pytest.raises(fulfillmap.MappingError) as caught:
        mapping.apply(source, context)
    assert (caught.value.plugin, caught.value.field) == (plugin, "x")
    assert message in str(caught.value)
    assert (source, context) == ({"items": [{"n": 1}]}, {"k": "v"})


def test_a_plugin_may_return_what_it_was_shown(tmp_path: Path) -> None:
    (tmp_path / "open.json").write_text(OPEN)
    (tmp_path / "m.yaml").write_text(
        "name: m\nsource: {name: s, schema: open.json}\ntarget: {name: t, schema: open.json}\n"
        "fields:\n  x: {plugin: echo}\n"
    )
    manager = fulfillmap.plugin_manager(entry_points=False)
    manager.register(Hostile(), name="hostile")
    source = {"items": [{"n": 1, "gone": None}]}
    body = fulfillmap.load(tmp_path / "m.yaml", plugins=manager).apply(source)
    assert body == {"x": [{"n": 1}]}
    assert body["x"][0] is not source["items"][0]


class Tally:
    """A plugin JMESPath function that counts its calls."""

    def __init__(self) -> None:
        self.calls = 0

    @hookimpl
    def fulfillmap_functions(self) -> list[JMESPathFunction]:
        return [JMESPathFunction("tally", self.tally, (("any",),))]

    def tally(self, value: Any) -> Any:
        self.calls += 1
        return value


@pytest.mark.parametrize("way", sorted(RUNS))
def test_trace_does_not_evaluate_an_expression_again(tmp_path: Path, way: str) -> None:
    """The trace's attempts (which fallback fired) come from the generated code's values."""
    (tmp_path / "open.json").write_text(OPEN)
    (tmp_path / "m.yaml").write_text(
        "name: m\nsource: {name: s, schema: open.json}\ntarget: {name: t, schema: open.json}\n"
        "fields:\n  x: {from: ['tally(a)', 'tally(b)', c]}\n"
    )
    plugin = Tally()
    manager = fulfillmap.plugin_manager(entry_points=False)
    manager.register(plugin, name="tally")
    mapping = fulfillmap.load(tmp_path / "m.yaml", plugins=manager)
    RUNS[way](mapping, {"b": 2, "c": 3})
    assert plugin.calls == 2
    trace = mapping.trace({"b": 2, "c": 3})
    (step,) = trace.steps
    assert [a.found for a in step.attempts] == ["null or missing", "value", "not reached"]
    assert (step.fallback, step.value) == (1, 2)
