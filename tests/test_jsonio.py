"""``fulfillmap.language._jsonio``: the orjson fast paths give exactly what the json module gives."""

from __future__ import annotations

import json
import math
import random
import struct
from decimal import Decimal
from typing import Any

import pytest
from fulfillmap.errors import FulfillmapError
from fulfillmap.language._jsonio import dump_document, dump_line, parse_json, parse_line
from hypothesis import given, settings
from hypothesis import strategies as st


def _outcome(parse: Any, text: str) -> str:
    """The value (types told apart: 1 vs 1.0, -0.0) or the error message."""
    try:
        return repr(parse(text))
    except FulfillmapError as exc:
        return f"error: {exc}"


def _same_as_json(text: str) -> str:
    expected = _outcome(lambda t: parse_json(t.strip(), "the line", one_line=True), text)
    assert _outcome(parse_line, text) == expected
    return expected


_TWICE = "in one object (the last would win silently) at column"


@pytest.mark.parametrize(
    ("text", "outcome"),
    [
        ('{"a":1,"a":2}', f'duplicate key "a" {_TWICE} 8'),
        ('{"a": 1, "b": {"c": 1, "c": 1}}', f'duplicate key "c" {_TWICE} 24'),
        ('{"a":1,"a" :2}', f'duplicate key "a" {_TWICE} 8'),
        ('{"a" :1,"a":2}', f'duplicate key "a" {_TWICE} 9'),
        ('{"a":1,"\\u0061":2}', f'duplicate key "a" {_TWICE} 8'),
        ('{"a":1,"a":2,"x":"\\u0022:"}', f'duplicate key "a" {_TWICE} 8'),
        ('{"a":"\\":","a":1}', f'duplicate key "a" {_TWICE} 12'),
        ('[{"a": [1, {"b": 2}], "b": 3, "a": 4}]', f'duplicate key "a" {_TWICE} 31'),
        ('{"a": NaN}', "NaN is not a JSON number"),
        ('{"a": -Infinity}', "-Infinity is not a JSON number"),
        ('{"a": 18446744073709551616}', "18446744073709551616"),
        ('{"a": -9223372036854775809}', "-9223372036854775809"),
        ('{"a": 18446744073709551615}', "18446744073709551615"),
        ('{"a": 1e400}', "Decimal('1E+400')"),  # amounts keep their digits (G3)
        ('{"a": 1.6050000000000000001}', "Decimal('1.6050000000000000001')"),
        (
            '{"a": 1e16, "b": 1.0, "c": -0.0, "d": 2.5e-05}',
            "'a': Decimal('1E+16'), 'b': Decimal('1.0'), 'c': Decimal('-0.0')",
        ),
        ('{"a": "\\ud800"}', "error: the line holds a lone surrogate escape (\\ud800)"),
        ('{"a": "\\ud83d\\ude00"}', "\U0001f600"),  # a surrogate pair is a character
        ("[" * 129 + "]" * 129, "error: the line nests arrays and objects more than 128 deep"),
        ('["[[[[' + "[" * 200 + '"]', "['[[[["),  # brackets in text are not nesting
        ('{"a": "é €", "b": "\\u00e9"}', "é €"),
        ('\ufeff{"a": 1}', "{'a': 1}"),  # a byte order mark is ignored (RFC 8259)
        ('{"a": 1}\r\n', "{'a': 1}"),
        ('{"a": 1} x', "Extra data"),
        ('{"a": [1, 2,]}', "error: the line is not valid JSON"),
        ('"just text"', "'just text'"),
        ("[]", "[]"),
        ("{bad", "error: the line is not valid JSON: Expecting property name"),
    ],
)
def test_parse_line_agrees_with_json(text: str, outcome: str) -> None:
    assert outcome in _same_as_json(text)


def test_a_repeated_key_is_found_where_it_is() -> None:
    text = '{"a": 1,\n "b": {"a": [{"a": 2}, "a"]},\n   "a": 3}'
    with pytest.raises(FulfillmapError) as caught:
        parse_json(text, "the input")
    assert str(caught.value) == (
        'the input is not valid JSON: duplicate key "a" in one object (the last would win '
        "silently) at line 3 column 4"
    )


_KEYS = st.sampled_from(["a", "b", "id", "é", 'q"', "k:", "sp ace", "\\"])
_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8)
)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_KEYS, inner, max_size=4),
    max_leaves=20,
)


def _with_repeated_key(text: str) -> str:
    """``text`` with its first object's first key given twice, when it has one."""
    start = text.find('{"')
    if start < 0:
        return text
    end = text.find('":', start) + 2
    key = text[start + 1 : end]
    return f"{text[: start + 1]}{key}0,{text[start + 1 :]}" if end > 1 else text


@settings(max_examples=400, deadline=None)
@given(
    _VALUES,
    st.sampled_from([(",", ":"), (", ", ": "), (",", " : "), (" ,", ":\t")]),
    st.booleans(),
    st.booleans(),
)
def test_parse_line_agrees_on_generated_lines(
    value: Any, separators: tuple[str, str], ascii_only: bool, repeat: bool
) -> None:
    text = json.dumps(value, separators=separators, ensure_ascii=ascii_only)
    _same_as_json(_with_repeated_key(text) if repeat else text)


def _stdlib_line(value: Any) -> bytes:
    text = json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    return text.encode("utf-8") + b"\n"


@pytest.mark.parametrize(
    "value",
    [
        {"b": 1, "a": [1.0, -0.0, 1e16, 1e-5, 2.5e-05, 1e-07, 0.0001, 5e-324, 1e308]},
        {"s": "".join(chr(i) for i in range(128)) + "\u2028\ufeff😀é"},
        {"big": 2**64, "small": -(2**63) - 1, "fits": 2**64 - 1},
        {"id": "evt_e381a2ff-7d42-4b05-91d5-e711443c3521", "note": "1e-5,", "n": None},
        ["0.00001", 3, True, None],
        1e-7,
    ],
)
def test_dump_line_writes_what_json_writes(value: Any) -> None:
    nulls = json.dumps(value).count("null")
    assert dump_line(value, nulls=nulls) == _stdlib_line(value)


def test_dump_line_agrees_on_random_floats() -> None:
    generator = random.Random(7)
    values = [
        struct.unpack("d", generator.getrandbits(64).to_bytes(8, "little"))[0] for _ in range(3000)
    ]
    values += [generator.uniform(-1, 1) * 10 ** generator.randint(-12, 20) for _ in range(3000)]
    finite = [value for value in values if math.isfinite(value)]
    assert dump_line({"values": finite}) == _stdlib_line({"values": finite})


@pytest.mark.parametrize("value", [{"lone": "\ud800"}, {"\udc80": 1}, ["ok", "x\udfff"], "\ud83d"])
def test_output_is_always_utf8_a_lone_surrogate_is_refused(value: Any) -> None:
    for dump in (dump_line, dump_document):
        with pytest.raises(FulfillmapError, match="lone surrogate"):
            dump(value)


@pytest.mark.parametrize(
    "text",
    ["1.6050000000000000001", "0.10", "1E+400", "-0.0", "2.50E-7", "12345678901234567890.5"],
)
def test_numbers_keep_their_digits(text: str) -> None:
    """G3: an amount read from the command line is written back with the same digits."""
    line = f'{{"amount":{text},"items":[{{"n":{text}}}]}}'
    value = parse_line(line)
    assert value["amount"] == Decimal(text)
    assert dump_line(value) == line.encode() + b"\n"
    assert json.loads(dump_document(value)) == json.loads(line)
    assert str(dump_document(value, compact=True), "utf-8") == line


@pytest.mark.parametrize(
    "value", [Decimal("NaN"), Decimal("sNaN"), Decimal("Infinity"), Decimal("-Infinity")]
)
def test_decimal_nan_and_infinity_are_refused(value: Decimal) -> None:
    for dump in (dump_line, dump_document):
        with pytest.raises(FulfillmapError, match="is not a JSON number"):
            dump({"a": [value]})


def test_deep_output_is_refused_not_a_recursion_error() -> None:
    deep: Any = 1
    for _ in range(300):
        deep = [deep]
    for dump in (dump_line, dump_document):
        with pytest.raises(FulfillmapError, match="nested too deeply"):
            dump(deep)


@pytest.mark.parametrize("number", [math.nan, math.inf, -math.inf])
def test_dump_line_refuses_what_json_cannot_hold(number: float) -> None:
    for nulls in (0, 1):  # one real None next to it does not let the NaN through
        with pytest.raises(FulfillmapError, match="cannot be written as JSON"):
            dump_line({"a": None, "b": [number]}, nulls=nulls)


@settings(max_examples=300, deadline=None)
@given(_VALUES)
def test_dump_line_agrees_on_generated_values(value: Any) -> None:
    nulls = json.dumps(value).count("null")
    assert dump_line(value, nulls=nulls) == _stdlib_line(value)


@pytest.mark.parametrize(
    "line",
    [
        '{"a" :1, "b":2, "b":3}',  # a spaced key next to a repeated one
        '{"a":"x:y","a":"z"}',  # colons inside the dropped value
        '{"a":"z","a":"x:y"}',  # colons inside the kept value
        '{"u:v":1,"u:v":2}',  # colons inside the key
        '{"o":{"k":1},"o":{"k":1}}',  # a repeated key whose values are equal
    ],
)
def test_parse_line_finds_every_repeated_key(line: str) -> None:
    with pytest.raises(FulfillmapError, match="duplicate key"):
        parse_line(line)


@pytest.mark.parametrize("depth", [129, 300, 1500, 5000])
def test_deep_lines_are_a_fulfillmap_error_whatever_the_limit(depth: int) -> None:
    """orjson reads 1,024 levels but writes 254 (its TypeError ended a whole handle batch);
    json recurses once per level. Neither escapes, with the limit or with it raised."""
    from fulfillmap.language._limits import Limits, set_limits

    line = '{"a":' * depth + "1" + "}" * depth
    with pytest.raises(FulfillmapError, match="more than 128 deep"):
        parse_line(line)
    previous = set_limits(Limits(max_json_depth=10_000))
    try:
        outcome = _outcome(parse_line, line)
    finally:
        set_limits(previous)
    assert outcome.startswith(("{'a'", "error: the line is nested too deeply to read"))


@pytest.mark.parametrize(
    "line",
    [
        '{"a":0.0,"b":-0.0,"c":[-0.0,0.0],"d":{"e":-0.0}}',  # one key for 0.0 and -0.0
        '{"a":-0.0,"b":0.0}',
        '{"a":0.0,"c":[0.0,{"d":0.0}],"e":2.5}',  # zeros only positive: the walk writes them
        '{"a":-0.05,"b":0.0,"c":[1.5]}',  # "-0.0" in a number's text: json reads the line
        '{"a":1e-7,"b":[0.00001,0.000025,1e+16,1.2345678901234568e+17]}',  # orjson != repr
        '{"a":1000000000000000.0,"b":5e-324,"c":583.87,"d":[[583.87,{"x":1.5}]]}',
        "[0.1,-0.0,2.5]",
        "2.5",
        '{"a":1.5,"a":2.5}',  # written back shorter: the careful path finds the key
        '{"t":"09:12:44.87Z","n":1.10}',  # 1.10 is not orjson's text: json reads it
    ],
)
def test_compact_lines_keep_each_floats_text(line: str) -> None:
    """A compact line that orjson writes back unchanged: its floats become the Decimals of
    their text, as json reads them, whatever was read before (zeros keep their sign)."""
    for _ in range(2):  # the second time, from the remembered floats
        _same_as_json(line)


def test_remembered_floats_are_bounded() -> None:
    """Memory stays flat: at most ``_KNOWN_LIMIT`` floats are remembered."""
    from fulfillmap.language import _jsonio

    for start in range(0, 3 * _jsonio._KNOWN_LIMIT, 500):
        line = "[" + ",".join(f"{n}.25" for n in range(start, start + 500)) + "]"
        assert parse_line(line)[-1] == Decimal(f"{start + 499}.25")
    assert len(_jsonio._KNOWN) <= _jsonio._KNOWN_LIMIT
