"""The plugin system: the built-in plugin, third-party plugins, and plugin failures."""

from __future__ import annotations

import json
import pickle
from decimal import Decimal
from pathlib import Path
from typing import Any

import fulfillmap
import pytest
from fulfillmap.plugins import FieldInput, JMESPathFunction, Shortcut, builtin, hookimpl

ORDER = "order-to-fulfillment-order"


def order(**changes: Any) -> dict[str, Any]:
    source: dict[str, Any] = {
        "id": "1",
        "createdTime": "2024-03-12T15:04:27Z",
        "currency": "USD",
        "shipTo": {"address": {"country": "US"}},
        "shippingChoice": {"serviceLevel": "SG"},
        "items": [
            {"id": "2", "skuId": "sku", "quantity": 1, "amount": 1.0, "tax": {"amount": 0.0}}
        ],
    }
    source.update(changes)
    return source


def test_builtins_are_registered_through_the_entry_point() -> None:
    manager = fulfillmap.plugin_manager()
    names = {name for name, _ in manager.list_name_plugin()}
    assert "builtin" in names, "the built-in plugin comes from the 'fulfillmap' entry point"


@pytest.mark.parametrize(
    ("flag", "expected"),
    [(True, {"id": "SG", "dutiesPaid": True}), (False, {"id": "SG"}), (None, {"id": "SG"})],
)
def test_duties_paid(flag: Any, expected: dict[str, Any]) -> None:
    result = fulfillmap.load(ORDER).apply(order(importerOfRecordTax=flag))
    assert result["shippingChoice"] == expected


def test_duties_paid_rejects_a_non_boolean() -> None:
    with pytest.raises(fulfillmap.MappingError) as caught:
        fulfillmap.load(ORDER).apply(order(importerOfRecordTax="yes"))
    error = caught.value
    assert (error.plugin, error.field) == ("duties-paid", "shippingChoice.dutiesPaid")
    assert "importerOfRecordTax must be true, false or null" in str(error)


@pytest.mark.parametrize(
    ("context", "expected"),
    [
        ({"shippingQuote": {"id": "SG", "signatureRequiredType": "adult"}}, "adult"),
        ({"shippingQuote": {"signatureRequiredType": "standard"}}, "standard"),
        ({"shippingQuote": {"id": "SG"}}, None),
        ({"shippingQuote": None}, None),
        ({}, None),
        (None, None),
    ],
)
def test_signature_required_type(context: Any, expected: str | None) -> None:
    result = fulfillmap.load(ORDER).apply(order(), context)
    assert result["shippingChoice"].get("signatureRequiredType") == expected


@pytest.mark.parametrize(
    ("quote", "message"),
    [
        ({"id": "SG", "signatureRequiredType": "ADULT"}, "must be one of standard, adult"),
        ({"id": "D1", "signatureRequiredType": "adult"}, "is not the quote the order uses"),
        ("adult", "must be an object"),
    ],
)
def test_signature_required_type_errors(quote: Any, message: str) -> None:
    with pytest.raises(fulfillmap.MappingError) as caught:
        fulfillmap.load(ORDER).apply(order(), {"shippingQuote": quote})
    assert caught.value.plugin == "signature-required-type"
    assert caught.value.field == "shippingChoice.signatureRequiredType"
    assert message in str(caught.value)


def test_builtin_functions_edge_cases() -> None:
    assert builtin.to_id("abc") == "abc"
    assert builtin.to_id(5.0) == "5"
    assert builtin.to_integer(None) is None
    for bad in (True, 1.5, float("inf"), "2", [1]):
        with pytest.raises(ValueError, match="to_integer"):
            builtin.to_integer(bad)
    for bad in (False, 1.5, {}):
        with pytest.raises(ValueError, match="to_id"):
            builtin.to_id(bad)


class GiftPlugin:
    """A third-party plugin: a computed field and a JMESPath function."""

    @hookimpl
    def fulfillmap_fields(self) -> dict[str, Any]:
        def gift(data: FieldInput) -> Any:
            if data.args.get("explode"):
                raise RuntimeError("boom")
            return data.context.get("gifts", {}).get(data.current.get("id"))

        return {"gift-message": gift}

    @hookimpl
    def fulfillmap_functions(self) -> list[JMESPathFunction]:
        return [JMESPathFunction("twice", lambda value: value * 2, (("number",),))]


def mapping_file(tmp_path: Path, fields: str) -> Path:
    (tmp_path / "any.json").write_text("{}")
    path = tmp_path / "gift.yaml"
    path.write_text(
        "name: gift\nsource: {name: s, schema: any.json}\ntarget: {name: t, schema: any.json}\n"
        "fields:\n" + fields
    )
    return path


def test_third_party_plugin(tmp_path: Path) -> None:
    manager = fulfillmap.plugin_manager()
    manager.register(GiftPlugin(), name="gift")
    path = mapping_file(
        tmp_path,
        "  lines:\n    each: items\n    fields:\n      message: {plugin: gift-message}\n"
        "      double: twice(n)\n",
    )
    mapping = fulfillmap.load(path, plugins=manager)
    result = mapping.apply(
        {"items": [{"id": "a", "n": 2}, {"id": "b", "n": 1}]}, {"gifts": {"a": "hi"}}
    )
    assert result == {"lines": [{"message": "hi", "double": 4}, {"double": 2}]}
    with pytest.raises(fulfillmap.SpecError, match="unknown plugin field 'gift-message'"):
        fulfillmap.load(path)


def test_a_plugin_that_raises_is_named(tmp_path: Path) -> None:
    manager = fulfillmap.plugin_manager()
    manager.register(GiftPlugin(), name="gift")
    path = mapping_file(tmp_path, "  m: {plugin: gift-message, args: {explode: true}}\n")
    with pytest.raises(fulfillmap.MappingError) as caught:
        fulfillmap.load(path, plugins=manager).apply({})
    error = caught.value
    assert (error.plugin, error.field) == ("gift-message", "m")
    assert "plugin 'gift-message' failed: RuntimeError: boom" in str(error)
    assert isinstance(error.__cause__, RuntimeError)
    clone = pickle.loads(pickle.dumps(error))
    assert (str(clone), clone.plugin) == (str(error), error.plugin)


def test_name_clashes_are_errors() -> None:
    class Again:
        @hookimpl
        def fulfillmap_fields(self) -> dict[str, Any]:
            return {"duties-paid": lambda data: None}

    class Shadow:
        @hookimpl
        def fulfillmap_functions(self) -> list[JMESPathFunction]:
            return [JMESPathFunction("length", len, (("any",),))]

    for plugin, message in ((Again(), "both provide field 'duties-paid'"), (Shadow(), "redefines")):
        manager = fulfillmap.plugin_manager()
        manager.register(plugin)
        with pytest.raises(fulfillmap.FulfillmapError, match=message):
            fulfillmap.load(ORDER, plugins=manager)


def test_hookspecs_are_the_whole_contract() -> None:
    from fulfillmap.plugins import hookspecs

    hooks = sorted(name for name in dir(hookspecs) if name.startswith("fulfillmap_"))
    assert hooks == ["fulfillmap_fields", "fulfillmap_functions"]
    manager = fulfillmap.plugin_manager(entry_points=False)
    assert manager.get_plugins() == set()


def test_example_context_file_is_an_object() -> None:
    context = json.loads(
        (Path(__file__).parent.parent / "examples" / "order.context.json").read_text()
    )
    assert isinstance(context["shippingQuote"], dict)


def test_a_plugin_error_keeps_its_type_but_a_value_error_is_its_message(tmp_path: Path) -> None:
    """``KeyError: 'b'`` says what went wrong where ``'b'`` alone does not; a ValueError is
    the plugin's own message for bad input (the contract), shown as it is."""

    class Lookup:
        @hookimpl
        def fulfillmap_fields(self) -> dict[str, Any]:
            return {"lookup": lambda data: {"a": 1}[data.current["key"]]}

    manager = fulfillmap.plugin_manager()
    manager.register(Lookup(), name="lookup")
    mapping = fulfillmap.load(mapping_file(tmp_path, "  m: {plugin: lookup}\n"), plugins=manager)
    with pytest.raises(fulfillmap.MappingError, match="plugin 'lookup' failed: KeyError: 'b'"):
        mapping.apply({"key": "b"})
    order = fulfillmap.load("order-to-fulfillment-order")
    with pytest.raises(fulfillmap.MappingError) as caught:
        order.apply(_example_order(), {"inventoryReserved": "yes"})
    assert caught.value.reason == (
        "plugin 'reservation-id' failed: context.inventoryReserved must be true or false, "
        'not "yes"'
    )


def _example_order() -> Any:
    import json

    return json.loads((Path(__file__).parent.parent / "examples" / "order.json").read_text())


@pytest.mark.parametrize(
    ("value", "whole"),
    [
        (2, 2),
        (2.0, 2),
        (__import__("decimal").Decimal("3.00"), 3),
        (-1, -1),
        (2.5, None),
        ("2", None),
        (True, None),
        (None, None),
        (float("nan"), None),
        (float("inf"), None),
        (__import__("decimal").Decimal("NaN"), None),
    ],
)
def test_whole_number_is_null_where_to_integer_fails(value: Any, whole: int | None) -> None:
    from fulfillmap.plugins.builtin import whole_number

    result = whole_number(value)
    assert (result, result.__class__) == (whole, whole.__class__)


def test_whole_numbers_of_too_many_digits_are_refused_at_once() -> None:
    """``1E+20000000`` is a whole number, but making it an integer takes minutes: a 30-byte
    webhook payload must not hold a worker. Beyond 100 digits it is not taken."""
    from decimal import Decimal

    for huge in (Decimal("1E+20000000"), Decimal("-1E+100"), 1e100, -1e300):
        assert builtin.whole_number(huge) is None
        with pytest.raises(ValueError, match="a whole number of at most 100 digits, not "):
            builtin.to_integer(huge)
        with pytest.raises(ValueError, match="text or a whole number of at most 100 digits"):
            builtin.to_id(huge)
    assert builtin.to_integer(Decimal("9" * 100)) == int("9" * 100)
    assert builtin.to_id(Decimal("1E+99")) == "1" + "0" * 99
    assert builtin.whole_number(1e99) == int(1e99)
    event = json.loads(
        (Path(__file__).resolve().parent.parent / "examples" / "shipped-event.json").read_text()
    )
    event["data"]["object"]["items"][0]["quantity"] = Decimal("1E+20000000")
    action = fulfillmap.Engine().handle(event)  # the line is left out, with its warning
    assert [warning.rule for warning in action.warnings] == ["quantities-are-positive"]


def test_unknown_keys() -> None:
    from fulfillmap.plugins import builtin
    from fulfillmap.plugins.builtin import unknown_keys

    assert unknown_keys({"a": 1, "z": None, "b": 2}, ["a", "b"]) == ["z"]
    assert unknown_keys(None, ["a"]) == []
    # an object or array among the names (unhashable): no key equals it, the others count
    assert unknown_keys({"a": 1, "b": 2}, [{"a": 1}, ["b"], "a"]) == ["b"]
    # the set of a list is kept by its value: a list changed in place is asked again
    names = ["a", "b"]
    assert unknown_keys({"a": 1, "c": 2}, names) == ["c"]
    names.append("c")
    assert unknown_keys({"a": 1, "c": 2}, names) == []
    names.remove("a")
    assert unknown_keys({"a": 1, "c": 2}, names) == ["a"]
    # and at most a bounded number of lists is kept
    for count in range(500):
        expected = ["a"] if count == 0 else ["a", "k0"]
        assert unknown_keys({"a": 1, "k0": 2}, [f"k{count}"]) == expected
    assert len(builtin._NAMES) <= builtin._NAMES_KEPT
    mapping_expression = fulfillmap.load("order-to-fulfillment-order")
    order = _example_order()
    order["shipTo"]["taxId"] = "x"
    [warning] = mapping_expression.run(order, {"shippingQuote": {"id": "SG"}}).warnings
    assert warning.rule == "ship-to-keys-are-known"


def test_minus() -> None:
    from fulfillmap.plugins import builtin

    assert builtin.minus(3, 1) == 2
    assert builtin.minus(1, 3) == -2
    with pytest.raises(ValueError, match="not true"):  # a boolean is no whole number
        builtin.minus(True, 1)
    assert builtin.minus(3.0, 1) == 2
    assert builtin.minus(None, 1) is None
    assert builtin.minus(1, None) is None
    with pytest.raises(ValueError, match="to_integer"):
        builtin.minus(1.5, 1)


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"tryfirst": True},
        {"trylast": True, "optionalhook": True},
        {"hookwrapper": True, "specname": "fulfillmap_fields"},
        {"wrapper": True},
    ],
)
def test_hookimpl_marks_a_function_as_pluggys_own_marker_does(options: dict[str, Any]) -> None:
    """``hookimpl`` needs no pluggy (a mapping from the cache imports plugins without it),
    so it must set exactly what pluggy's marker sets, with and without options."""
    import pluggy

    def ours() -> None: ...

    def pluggys() -> None: ...

    if options:
        hookimpl(**options)(ours)
        pluggy.HookimplMarker("fulfillmap")(**options)(pluggys)
    else:
        assert hookimpl(ours) is ours
        pluggy.HookimplMarker("fulfillmap")(pluggys)
    assert ours.fulfillmap_impl == pluggys.fulfillmap_impl  # type: ignore[attr-defined]
    manager = pluggy.PluginManager("fulfillmap")
    assert manager.parse_hookimpl_opts(type("P", (), {"f": staticmethod(ours)}), "f") == (
        pluggys.fulfillmap_impl  # type: ignore[attr-defined]
    )


class Counted:
    """A JMESPath function ``only(value, names)`` (``unknown_keys``'s twin) that counts its
    calls, with the shortcuts ``shortcuts`` returns."""

    def __init__(self, shortcuts: Any) -> None:
        self.calls = 0
        self.shortcuts = shortcuts

    def only(self, value: Any, names: list[str]) -> list[str]:
        self.calls += 1
        return builtin.unknown_keys(value, names)

    @hookimpl
    def fulfillmap_functions(self) -> list[JMESPathFunction]:
        signature = (("object", "null"), ("array",))
        return [JMESPathFunction("only", self.only, signature, shortcuts=self.shortcuts)]


def _counted(tmp_path: Path, shortcuts: Any, expression: str) -> tuple[Counted, Any]:
    plugin = Counted(shortcuts)
    manager = fulfillmap.plugin_manager()
    manager.register(plugin, name="counted")
    path = mapping_file(tmp_path, f"  out: {json.dumps(expression)}\n")
    return plugin, fulfillmap.load(path, plugins=manager)


def test_a_shortcut_is_taken_instead_of_the_call(tmp_path: Path) -> None:
    plugin, mapping = _counted(tmp_path, builtin.known_keys_only, 'only(a, `["x", "y"]`)')
    assert "_test" in mapping.source_code  # the set's issuperset, called inline
    for value, expected in (({"x": 1}, []), ({}, []), (None, [])):
        assert mapping.apply({"a": value}).get("out") == expected  # an empty list is kept
    assert plugin.calls == 0
    assert mapping.apply({"a": {"x": 1, "z": 2}}) == {"out": ["z"]}
    assert plugin.calls == 1
    trace = mapping.trace({"a": {"x": 1}})  # the traced variant: the same shortcut
    assert (trace.body, plugin.calls) == ({"out": []}, 1)


@pytest.mark.parametrize(
    ("expression", "expected", "calls"),
    [
        ("only(a, b)", {"out": []}, 1),  # names that are not a literal: only a call knows
        ('only(a, `[{"x": 1}, "x"]`)', {"out": []}, 1),  # names no set holds: no shortcut
        ('only(a, `"x"`)', r"only\(\) takes an array", 0),  # not an array: a type error
    ],
)
def test_no_shortcut_without_literal_names_of_the_right_type(
    tmp_path: Path, expression: str, expected: Any, calls: int
) -> None:
    plugin, mapping = _counted(tmp_path, builtin.known_keys_only, expression)
    source = {"a": {"x": 1}, "b": ["x"]}
    if isinstance(expected, str):
        with pytest.raises(fulfillmap.MappingError, match=expected):
            mapping.apply(source)
    else:
        assert mapping.apply(source) == expected
    assert plugin.calls == calls


def test_a_shortcut_never_skips_a_type_error(tmp_path: Path) -> None:
    """A shortcut for a class the signature refuses is not taken: jmespath's error stands."""

    def wrong(names: list[str]) -> tuple[Shortcut, ...]:
        return (Shortcut(str, []), Shortcut(type(None), []))

    plugin, mapping = _counted(tmp_path, wrong, 'only(a, `["x"]`)')
    with pytest.raises(fulfillmap.MappingError, match=r"only\(\) takes .*, not text"):
        mapping.apply({"a": "text"})
    assert mapping.apply({"a": None}) == {"out": []}
    assert plugin.calls == 0
    _, mapping = _counted(tmp_path, wrong, 'only(a, `"x"`)')  # names that are not an array
    with pytest.raises(fulfillmap.MappingError, match=r"only\(\) takes an array"):
        mapping.apply({"a": None})


def test_a_shortcut_for_a_value_known_when_compiled(tmp_path: Path) -> None:
    plugin, mapping = _counted(tmp_path, builtin.known_keys_only, 'only(`null`, `["x"]`)')
    assert mapping.apply({}) == {"out": []}
    plugin, mapping = _counted(tmp_path, builtin.known_keys_only, 'only(`{"z": 1}`, `["x"]`)')
    assert mapping.apply({}) == {"out": ["z"]}
    assert plugin.calls == 1


@pytest.mark.parametrize(
    ("shortcuts", "message"),
    [
        (lambda names: 1 / 0, r"only\(\): shortcuts failed: ZeroDivisionError"),
        (lambda names: ("x",), r"only\(\): its shortcuts must be Shortcut"),
        (lambda names: (Shortcut(dict, {1, 2}),), r"only\(\): its shortcuts must be Shortcut"),
        (lambda names: (Shortcut("dict", []),), r"only\(\): its shortcuts must be Shortcut"),
    ],
)
def test_a_broken_shortcut_names_its_function(tmp_path: Path, shortcuts: Any, message: str) -> None:
    _, mapping = _counted(tmp_path, shortcuts, 'only(a, `["x"]`)')
    with pytest.raises(fulfillmap.FulfillmapError, match=message):
        mapping.apply({"a": {}})


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("8760948870", True),
        (8760948870, True),
        (0, True),
        (2.0, True),
        (Decimal("2"), True),
        ("", False),
        (1.5, False),
        (True, False),
        (None, False),
        ([], False),
        ({"id": "1"}, False),
        (Decimal("1E+200"), False),  # more digits than to_id takes
    ],
)
def test_is_id_is_what_to_id_makes_text_of(value: Any, expected: bool) -> None:
    assert builtin.is_id(value) is expected
    if expected:  # to_id makes text of it
        assert builtin.to_id(value) == str(builtin.whole_number(value) or value)


def test_shortcuts_are_taken_in_order_for_a_value_known_when_compiled(tmp_path: Path) -> None:
    """A value of a known class: its shortcuts' tests in turn, the first without a test
    taking every other value (results that say which one was taken)."""

    def two(names: list[str]) -> tuple[Shortcut, ...]:
        return (Shortcut(dict, ["tested"], frozenset(names).issuperset), Shortcut(dict, ["any"]))

    for literal, expected in (('{"x": 1}', ["tested"]), ('{"z": 1}', ["any"])):
        plugin, mapping = _counted(tmp_path, two, f'only(`{literal}`, `["x"]`)')
        assert mapping.apply({}) == {"out": expected}
        assert plugin.calls == 0
