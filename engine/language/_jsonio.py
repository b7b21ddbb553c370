"""JSON in and out of the command line: the standard library's rules, at orjson's speed.

The rules (``parse_json``): numbers with a fraction or an exponent are read as ``Decimal``, so
that an amount keeps its digits (``1.6050000000000000001`` stays, G3); NaN and Infinity are not
JSON numbers; a key given twice in one object is an error (the last would win silently); big
integers stay exact; a lone surrogate escape (``"\\ud800"``) is not text. A document nested
more deeply than ``Limits.max_json_depth`` is refused before it is parsed, so that no parser
recurses into it. Output (``dump_line``, ``dump_document``) is UTF-8 JSON, keys in order,
non-ASCII characters as they are, a ``Decimal`` with its digits; NaN, infinity and values JSON
cannot hold are refused.

orjson parses a JSON Lines event about 3x faster than ``json`` and writes an Action 15x
faster, but it differs from the rules: it keeps the last of two equal keys, reads integers
beyond 64 bits as floats, reads every fraction as a float, and writes small floats (``1e-07``)
and NaN differently. So the fast path is taken only where it provably gives what ``json``
gives, and ``json`` decides every other case (and words every error):

- ``parse_line`` reads a line without a backslash, so without escapes, with orjson. When
  orjson's compact output of the value is the line itself (compact JSON, as services write
  it), no key was dropped, and each number is written in the line as orjson writes it: each
  float becomes the Decimal of that text, when it is also ``repr``'s (json reads the line
  otherwise, and where a negative zero is written; floats seen before are remembered, up to
  a bound), and the depth is measured on the way (the text's brackets are counted
  otherwise). Else the line is read with
  ``json`` without its (Python) repeated-key hook where a digit outside the line's strings
  is followed by ``.``, ``e`` or ``E`` (a fraction or an exponent, which orjson would make a
  float). Every text in it (keys
  and values) is then written the same way in orjson's compact output of the value. The
  colons inside those texts are then the same in both; the others separate a key from its
  value. A repeated key that orjson drops takes its colon (and those of its dropped value)
  with it, so the line and the output hold as many colons exactly when no key repeats, white
  space wherever it stands. The output has no ``e+`` unless the value holds a float of 1e16
  or more, which is what orjson makes of an integer beyond 64 bits.
- ``dump_line`` keeps orjson's text unless it holds ``0.0000`` or ``e-`` (orjson writes
  floats below 1e-4 unlike ``repr``), more ``null`` than the caller counted None values
  (orjson writes NaN and infinity as null) or orjson refuses the value (an integer beyond
  64 bits, a lone surrogate): then every number is written as ``json`` writes it (``repr``),
  or refused.
"""

from __future__ import annotations

import json
import math
import re
from decimal import Decimal
from itertools import accumulate
from typing import Any

import orjson
from fulfillmap.errors import FulfillmapError, line_column
from fulfillmap.language._limits import limits

__all__ = ["check_depth", "dump_document", "dump_line", "parse_json", "parse_line"]

#: orjson's text of a float of 1e16 or more
_BIG_FLOAT = re.compile(rb"e\+")
#: the exponent of orjson's text of a float below 1e-4 (json writes those otherwise), once
#: a digit stands before it; searched from the ``e`` (text such as ids has many digits)
_SMALL_EXPONENT = re.compile(rb"e-[0-9]+(?:[,}\]]|\Z)")
_DIGITS = frozenset(b"0123456789")
#: where a number may have a fraction or an exponent (orjson would read it as a float)
_FRACTION = re.compile(r"[0-9][.eE]")
#: a JSON string, and what is not a bracket (for measuring depth)
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}
#: an escape of a surrogate code point (a lone one is not text)
_SURROGATE = re.compile(r"\\u[dD][89a-fA-F]")


def check_depth(text: str, what: str) -> None:
    """Refuse ``text`` if its arrays and objects nest deeper than ``Limits.max_json_depth``,
    before any parser recurses into it (counting brackets costs far less than parsing)."""
    limit = limits().max_json_depth
    if _deeper_than(text, limit):
        raise FulfillmapError(
            f"{what} nests arrays and objects more than {limit} deep (the limit; "
            "FULFILLMAP_MAX_JSON_DEPTH changes it)"
        )


def _deeper_than(text: str, limit: int) -> bool:
    if text.count("[") + text.count("{") <= limit:
        return False
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))
    return max(accumulate(_STEP[bracket] for bracket in brackets), default=0) > limit


def parse_json(text: str, what: str, *, one_line: bool = False) -> Any:
    """Parse JSON text; a FulfillmapError says where ``what`` is invalid.

    A leading byte order mark is ignored (RFC 8259 allows it; Windows tools write one).
    """
    text = text.removeprefix("\ufeff")
    check_depth(text, what)
    try:
        value = json.loads(
            text,
            parse_float=Decimal,
            parse_constant=_reject_constant,
            object_pairs_hook=_unique_keys,
        )
    except json.JSONDecodeError as exc:
        where = "" if one_line else f"line {exc.lineno} "
        raise FulfillmapError(
            f"{what} is not valid JSON: {exc.msg} at {where}column {exc.colno}"
        ) from None
    except _Repeated:
        raise FulfillmapError(f"{what} is not valid JSON: {_repeated(text, one_line)}") from None
    except ValueError as exc:
        raise FulfillmapError(f"{what} is not valid JSON: {exc}") from None
    except RecursionError:  # only with max_json_depth raised near Python's recursion limit
        raise FulfillmapError(f"{what} is nested too deeply to read") from None
    if "\\" in text and _SURROGATE.search(text):
        _refuse_lone_surrogates(value, what)
    return value


def parse_line(text: str, what: str = "the line") -> Any:
    """One JSON Lines line, as ``parse_json(text, what, one_line=True)`` reads it (which
    says why, when ``_fast`` leaves it: a line too deep, not JSON, ...)."""
    if "\\" not in text:
        value = _fast(text)
        if value is not _SLOW:
            return value
    return parse_json(text.strip(), what, one_line=True)


_SLOW = object()  #: what ``_fast`` gives when ``parse_json`` must decide


def _fast(text: str) -> Any:
    """The value of a line without escapes, parsed in C without checking for repeated keys
    (orjson, which reads 1,024 levels and writes 254, refusing more), then checked for them;
    ``_SLOW`` when in doubt or deeper than ``Limits.max_json_depth``.

    When orjson writes its value back as the line itself (compact JSON, as services write
    it), no key was dropped and every number is written as orjson writes it: its floats
    become the ``Decimal`` of that text (``_as_decimals``, which measures the depth on the
    way), unless one is a negative zero (``_KNOWN`` has one key for both zeros). Otherwise,
    after the depth is checked on the text, keys are checked by counting colons in
    orjson's output of orjson's value (a float where json gives a Decimal, but the same
    keys), and json parses the line again where a number has a fraction (orjson made it a
    float)."""
    limit = limits().max_json_depth
    try:
        value = orjson.loads(text)
        again = orjson.dumps(value)
        if again.decode() == text.strip() and b"-0.0" not in again:
            return _as_decimals(value, limit - 1)
        if _deeper_than(text, limit):
            return _SLOW
        if _FRACTION.search(text) is not None and _fraction_outside_strings(text):
            value = _DECIMALS.decode(text)
    except (ValueError, TypeError, _TooDeep):  # not JSON, NaN, a big integer, too deep
        return _SLOW
    except (_NotExact, RecursionError):  # a float written otherwise (or absurdly deep)
        return _SLOW if _deeper_than(text, limit) else _decode(text)
    if text.count(":") == again.count(b":") and _BIG_FLOAT.search(again) is None:
        return value
    return _SLOW


def _decode(text: str) -> Any:
    """``text`` read by json with Decimal fractions, without the repeated-key hook (the
    caller knows no key repeats); ``_SLOW`` if json refuses it."""
    try:
        return _DECIMALS.decode(text)
    except (ValueError, RecursionError):
        return _SLOW


class _NotExact(Exception):
    """A float whose text (orjson's) is not ``repr``'s: its Decimal is left to json."""


class _TooDeep(Exception):
    """Arrays and objects nested deeper than the limit: ``parse_json`` says so."""


def _as_decimals(value: Any, left: int) -> Any:
    """orjson's ``value`` of a line it writes back unchanged and which holds no negative
    zero, each float replaced, in place, by the Decimal of its text in the line, which is
    orjson's text of it; raises ``_NotExact`` for a float whose ``repr`` is not that text,
    and ``_TooDeep`` when arrays and objects nest more than ``left`` levels below it."""
    if value.__class__ is dict:
        _in_object(value, left)
    elif value.__class__ is list:
        _in_array(value, left)
    elif value.__class__ is float:
        return (_KNOWN.get(value) or _decimal_of(value)) if value else _ZERO
    return value


def _in_object(value: dict[str, Any], left: int) -> None:
    if left < 0:
        raise _TooDeep
    for key, item in value.items():
        kind = item.__class__
        if kind is float:  # a value replaced: the dict keeps its size
            value[key] = (_KNOWN.get(item) or _decimal_of(item)) if item else _ZERO
        elif kind is dict:
            _in_object(item, left - 1)
        elif kind is list:
            _in_array(item, left - 1)


def _in_array(value: list[Any], left: int) -> None:
    if left < 0:
        raise _TooDeep
    for index, item in enumerate(value):
        kind = item.__class__
        if kind is float:
            value[index] = (_KNOWN.get(item) or _decimal_of(item)) if item else _ZERO
        elif kind is dict:
            _in_object(item, left - 1)
        elif kind is list:
            _in_array(item, left - 1)


#: float -> the Decimal of its text, for floats whose ``repr`` orjson writes the same way
#: (amounts repeat: 5.0, 0.08025...); zeros are not in it (0.0 and -0.0 are one key: the
#: walks write ``_ZERO`` for a zero, in lines without ``-0.0``)
_KNOWN: dict[float, Decimal] = {}
#: at most this many floats are remembered (memory stays flat whatever the input)
_KNOWN_LIMIT = 4096
_ZERO, _MINUS_ZERO = Decimal("0.0"), Decimal("-0.0")


def _decimal_of(number: float) -> Decimal:
    """The Decimal of orjson's text of ``number`` (``_NotExact`` unless it is ``repr``'s).
    The walks look ``_KNOWN`` up first (no nonzero Decimal in it is false)."""
    if not number:
        return _MINUS_ZERO if math.copysign(1.0, number) < 0 else _ZERO
    text = repr(number)
    if orjson.dumps(number) != text.encode():
        raise _NotExact
    decimal = Decimal(text)
    if len(_KNOWN) < _KNOWN_LIMIT:
        _KNOWN[number] = decimal
    return decimal


def _fraction_outside_strings(text: str) -> bool:
    """Whether ``text`` (a line without a backslash, so whose every ``"`` opens or closes a
    string) may hold a number with a fraction or an exponent: a digit followed by ``.``,
    ``e`` or ``E`` outside its strings (in which times such as ``09:12:44.87Z`` and ids such
    as ``6c1e0f`` have them)."""
    return _FRACTION.search("".join(text.split('"')[::2])) is not None


def _refuse_lone_surrogates(value: Any, what: str) -> None:
    try:
        json.dumps(value, ensure_ascii=False, default=str).encode("utf-8")
    except UnicodeEncodeError as exc:
        code = ord(exc.object[exc.start])
        raise FulfillmapError(
            f"{what} holds a lone surrogate escape (\\u{code:04x}), which is not a character; "
            "a surrogate escape must be a high one followed by a low one"
        ) from None


def dump_line(value: Any, *, nulls: int = 0) -> bytes:
    """``value`` as one line of compact JSON (UTF-8, with the newline).

    ``nulls`` is how many None values ``value`` holds, or fewer (fewer only takes the
    slower path; more would let a NaN through as null). Raises FulfillmapError for NaN or
    infinity, which JSON cannot hold, and for text that is not Unicode (a lone surrogate).
    """
    try:
        text = orjson.dumps(value, default=_decimal)
    except TypeError:
        pass  # the exact path writes it, or says why not
    else:
        if text.count(b"null") <= nulls and not _small_float(text):
            return text + b"\n"
    return _dump_exact(value, 0) + b"\n"


def dump_document(value: Any, *, compact: bool = False) -> bytes:
    """``value`` as JSON text (UTF-8; indented by two spaces unless ``compact``)."""
    return _dump_exact(value, 0 if compact else orjson.OPT_INDENT_2)


def _decimal(value: Any) -> Any:
    if isinstance(value, Decimal) and value.is_finite():
        return orjson.Fragment(str(value))
    raise TypeError  # orjson then raises its own TypeError: the exact path says why


def _dump_exact(value: Any, option: int) -> bytes:
    try:
        return orjson.dumps(_exact(value, 0), option=option)
    except TypeError as exc:  # a value of a type JSON has no place for
        raise FulfillmapError(f"the result cannot be written as JSON: {exc}") from None


def _exact(value: Any, depth: int) -> Any:
    """``value`` with each number as orjson.Fragment of ``json``'s text, refusing what JSON
    cannot hold (NaN, infinity, a lone surrogate, too deep)."""
    if depth > 250:  # orjson's own limit is 254
        raise FulfillmapError("the result cannot be written as JSON: it is nested too deeply")
    if isinstance(value, str):
        return _text(value)
    if isinstance(value, dict):
        return {_text(key): _exact(item, depth + 1) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_exact(item, depth + 1) for item in value]
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return _number(value, int.__repr__)
    if isinstance(value, float):
        return _number(value, float.__repr__) if math.isfinite(value) else _not_json(value)
    if isinstance(value, Decimal):
        return _number(value, Decimal.__str__) if value.is_finite() else _not_json(value)
    return value  # orjson refuses it, or writes it (a dataclass...)


def _number(value: Any, text: Any) -> orjson.Fragment:
    try:
        return orjson.Fragment(text(value))
    except ValueError as exc:  # an integer of more than 4,300 digits
        raise FulfillmapError(f"the result cannot be written as JSON: {exc}") from None


def _text(value: Any) -> Any:
    if isinstance(value, str) and not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            code = ord(exc.object[exc.start])
            raise FulfillmapError(
                f"the result cannot be written as JSON: it holds a lone surrogate "
                f"(\\u{code:04x}), which is not a character"
            ) from None
    return value


def _not_json(value: Any) -> Any:
    raise FulfillmapError(f"the result cannot be written as JSON: {value} is not a JSON number")


def _small_float(text: bytes) -> bool:
    """Whether orjson's ``text`` may hold a float below 1e-4 (json writes those otherwise)."""
    if b"0.0000" in text:
        return True
    return b"e-" in text and any(
        found.start() and text[found.start() - 1] in _DIGITS
        for found in _SMALL_EXPONENT.finditer(text)
    )


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) < len(pairs):
        raise _Repeated
    return result


class _Repeated(ValueError):
    """An object of the text holds a key twice (``_repeated`` finds it)."""


def _repeated(text: str, one_line: bool) -> str:
    """Which key repeats first in one object of ``text``, and where (the error path only:
    the text parsed up to an object with a repeated key, so its strings are whole)."""
    frames: list[set[str] | None] = []  # the keys of each object open there; None: an array
    key_next, index = False, 0
    while (index := _NEXT.search(text, index).start()) < len(text):  # type: ignore[union-attr]
        char = text[index]
        if char == '"':
            string = _STRING.match(text, index)
            assert string is not None  # the text parsed this far: its strings are whole
            key, end = json.loads(string.group()), string.end()
            keys = frames[-1] if frames else None
            if key_next and keys is not None:
                if key in keys:
                    line, column = line_column(text, index)
                    where = "" if one_line else f"line {line} "
                    return (
                        f"duplicate key {json.dumps(key)} in one object (the last would win "
                        f"silently) at {where}column {column}"
                    )
                keys.add(key)
            key_next, index = False, end
            continue
        if char in "{[":
            frames.append(set() if char == "{" else None)
        elif char in "}]" and frames:
            frames.pop()
        key_next = char in "{," and bool(frames) and frames[-1] is not None
        index += 1
    return "duplicate key in one object (the last would win silently)"


#: the next string, bracket or comma (or the end)
_NEXT = re.compile(r'["{}\[\],]|\Z')


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


#: ``json.loads(text, parse_float=Decimal, parse_constant=_reject_constant)`` without
#: building a decoder per line (``_fast``'s text has no byte order mark, which both refuse)
_DECIMALS = json.JSONDecoder(parse_float=Decimal, parse_constant=_reject_constant)
