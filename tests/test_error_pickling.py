"""Every public exception pickles and deep-copies with its message and fields, so that a
process pool's worker that raises one hands it to the parent as it is (QA found that a
``SpecError`` or a ``DigitalRiverError`` raised in a ``ProcessPoolExecutor`` broke the pool)."""

from __future__ import annotations

import copy
import json
import pickle
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any, NoReturn

import fulfillmap
import pytest
from fulfillmap import (
    DigitalRiverError,
    Engine,
    EventError,
    FulfillmapError,
    FulfillmapWarning,
    LedgerError,
    MappingError,
    SpecError,
    Violation,
)

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def caught(kind: type[Exception], action: Callable[[], object]) -> Any:
    """The ``kind`` that ``action`` raises."""
    with pytest.raises(kind) as raised:
        action()
    return raised.value


@pytest.fixture(scope="module")
def errors(tmp_path_factory: pytest.TempPathFactory) -> list[BaseException]:
    """One of each public exception class, raised by fulfillmap where it can be."""
    bad = tmp_path_factory.mktemp("bad") / "bad.yaml"
    bad.write_text("name: x\nfields: {a: {frm: b}}\n", encoding="utf-8")
    order = json.loads((EXAMPLES / "order.json").read_text(encoding="utf-8"))
    context = json.loads((EXAMPLES / "order.context.json").read_text(encoding="utf-8"))
    broken = {**order, "items": [{**order["items"][0], "tax": {}}]}
    mapping = fulfillmap.load("order-to-fulfillment-order")
    body = {"type": "conflict", "errors": [{"code": "order_fulfilled", "message": "done"}]}
    violation = Violation("r", "no amount", "warn", "items[0]", "amount", "m.yaml:3:5")
    return [
        FulfillmapError("a plain one"),
        caught(SpecError, lambda: fulfillmap.load(bad)),
        caught(
            MappingError, lambda: mapping.apply(broken, context)
        ),  # its trace computed when read
        caught(EventError, lambda: Engine().handle({"id": "e", "type": "a.b", "data": {}})),
        DigitalRiverError(409, body),
        DigitalRiverError(503),
        LedgerError("cannot open the ledger"),
        FulfillmapWarning(violation),
    ]


def described(error: BaseException) -> tuple[Any, ...]:
    """What ``error`` says and holds."""
    fields = {name: value for name, value in vars(error).items() if not name.startswith("_")}
    details = error.details() if isinstance(error, MappingError) else None
    return (type(error), str(error), error.args, fields, details)


def test_every_public_exception_class_is_tried(errors: list[BaseException]) -> None:
    public = {getattr(fulfillmap, name) for name in fulfillmap.__all__}
    classes = {cls for cls in public if isinstance(cls, type) and issubclass(cls, BaseException)}
    assert {type(error) for error in errors} == classes


def test_pickle_and_deepcopy_keep_the_message_and_the_fields(errors: list[BaseException]) -> None:
    for error in errors:
        for again in (pickle.loads(pickle.dumps(error)), copy.deepcopy(error), copy.copy(error)):
            assert described(again) == described(error)
    spec_error = errors[1]
    assert isinstance(spec_error, SpecError)
    assert spec_error.problems
    assert copy.deepcopy(spec_error).problems == spec_error.problems
    mapping_error = errors[2]
    assert isinstance(mapping_error, MappingError)
    assert mapping_error.trace  # the trace travels, computed before it is pickled
    assert pickle.loads(pickle.dumps(mapping_error)).details() == mapping_error.details()


def _raise(error: BaseException) -> NoReturn:
    raise error


def test_a_process_pool_worker_raising_one_hands_it_over(errors: list[BaseException]) -> None:
    with ProcessPoolExecutor(max_workers=1) as pool:
        futures = [pool.submit(_raise, error) for error in errors]
        raised = [future.exception(timeout=60) for future in futures]
        assert pool.submit(len, "still working").result(timeout=60) == 13
    assert [described(error) for error in raised if error is not None] == [
        described(error) for error in errors
    ]
