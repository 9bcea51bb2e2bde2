"""_deadline.Relay and relay(): awaits that compiled code can make of any awaitable.

The compiled build's ``await`` hands exceptions on with throw(type, value, traceback)
(mypyc/mypyc#1214), a form Python 3.12 deprecated for coroutines and generators: without the
relay, every cancellation of an app, a verifier or a server's ``receive`` under a compiled
middleware warns, and fails under ``-W error`` (this suite's filterwarnings).
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Generator
from typing import Any

import pytest

from schemaguard import _deadline
from schemaguard._deadline import Relay, first_step, relay


class _Suspend:
    """An awaitable that yields once (what a task would wait on), then returns its value."""

    def __init__(self, value: Any) -> None:
        self.value = value

    def __await__(self) -> Generator[Any, Any, Any]:
        sent = yield "waiting"
        return (self.value, sent)


async def _catching(events: list[str]) -> str:
    try:
        await _Suspend(None)
    except asyncio.CancelledError as exc:
        events.append(f"cancelled: {exc.args}")
        return "caught"
    except GeneratorExit:
        events.append("closed")
        raise
    return "not cancelled"


def test_awaiting_a_relay_is_awaiting_the_awaitable() -> None:
    async def main() -> Any:
        return await Relay(_Suspend(7).__await__())

    steps = main().__await__()
    assert next(steps) == "waiting"  # the relay hands the awaitable's yield to the driver
    with pytest.raises(StopIteration) as done:
        steps.send("sent in")
    assert done.value.value == (7, "sent in")  # what was sent in reached the awaitable


def test_a_relay_under_a_real_task_returns_the_result() -> None:
    async def answer() -> int:
        await asyncio.sleep(0)
        return 42

    async def main() -> int:
        return await Relay(answer().__await__())

    assert asyncio.run(main()) == 42


def test_the_first_value_of_a_stepped_awaitable_comes_first() -> None:
    steps = _Suspend("v").__await__()
    first = next(steps)  # stepped once by hand, as Exchange.read and verify_within do
    resumed = Relay(steps, first)
    assert resumed.send(None) == "waiting"
    with pytest.raises(StopIteration) as done:
        resumed.send("late")
    assert done.value.value == ("v", "late")


def test_first_step_of_an_awaitable_that_does_not_wait_is_its_result() -> None:
    async def ready() -> dict[str, Any]:
        return {"type": "http.request", "body": b"{}"}

    result, rest = first_step(ready())
    assert rest is None  # nothing left to await: no deadline needs arming
    assert result == {"type": "http.request", "body": b"{}"}


def test_first_step_of_an_awaitable_that_waits_leaves_the_rest() -> None:
    result, rest = first_step(_Suspend("v"))
    assert result is None
    assert rest is not None
    assert rest.send(None) == "waiting"  # the yield of the first step comes first
    with pytest.raises(StopIteration) as done:
        rest.send("late")
    assert done.value.value == ("v", "late")


def test_first_step_raises_what_the_awaitable_raises_at_once() -> None:
    async def broken() -> None:
        raise LookupError("no message")

    with pytest.raises(LookupError, match="no message"):
        first_step(broken())


def test_the_rest_of_a_first_step_runs_under_a_real_task() -> None:
    async def later() -> int:
        await asyncio.sleep(0)
        return 5

    async def main() -> int | None:
        _, rest = first_step(later())
        assert rest is not None
        return await rest

    assert asyncio.run(main()) == 5


def test_a_cancellation_reaches_a_coroutine_stepped_by_hand() -> None:
    """A coroutine's first step is its own send(None) (no wrapper); the rest, awaited under a
    deadline, still gets the cancellation, and what it does with it is its own answer."""
    events: list[str] = []
    result, rest = first_step(_catching(events))
    assert result is None
    assert rest is not None
    assert rest.send(None) == "waiting"  # the first step's yield, handed on first
    with pytest.raises(StopIteration) as done:
        rest.throw(asyncio.CancelledError("deadline"))
    assert done.value.value == "caught"
    assert events == ["cancelled: ('deadline',)"]


@pytest.mark.parametrize("form", ["one argument", "three arguments"])
def test_throw_in_either_form_reaches_the_awaitable_alone(form: str) -> None:
    events: list[str] = []
    coroutine = _catching(events)
    relayed = Relay(coroutine.__await__())
    assert relayed.send(None) == "waiting"
    error = asyncio.CancelledError("deadline")
    # Three arguments is how compiled code throws: no DeprecationWarning (an error here).
    args: tuple[Any, ...] = (error,) if form == "one argument" else (type(error), error, None)
    with pytest.raises(StopIteration) as done:
        relayed.throw(*args)
    assert done.value.value == "caught"
    assert events == ["cancelled: ('deadline',)"]


def test_throw_with_a_type_only_builds_the_exception() -> None:
    events: list[str] = []
    relayed = Relay(_catching(events).__await__())
    relayed.send(None)
    with pytest.raises(StopIteration):
        relayed.throw(asyncio.CancelledError)
    assert events == ["cancelled: ()"]


def test_an_exception_the_awaitable_does_not_catch_comes_out() -> None:
    relayed = Relay(_Suspend(1).__await__())
    relayed.send(None)
    with pytest.raises(KeyError, match="boom"):
        relayed.throw(KeyError, KeyError("boom"), None)


def test_throw_into_a_plain_iterator_raises_it_here() -> None:
    relayed = Relay(iter(["a", "b"]))
    assert relayed.send(None) == "a"
    with pytest.raises(ValueError, match="x"):
        relayed.throw(ValueError("x"))


def test_close_closes_the_awaitable() -> None:
    events: list[str] = []
    coroutine = _catching(events)
    relayed = Relay(coroutine.__await__())
    relayed.send(None)
    relayed.close()
    assert events == ["closed"]
    assert coroutine.cr_frame is None  # finished


def test_close_before_the_first_value_was_handed_on() -> None:
    events: list[str] = []
    steps = _catching(events).__await__()
    relayed = Relay(steps, next(steps))
    relayed.close()
    assert events == ["closed"]
    with pytest.raises(RuntimeError, match="cannot reuse"):
        relayed.send(None)  # the first value is not handed on after close: the closed
        # coroutine answers, as it would to its own await


@pytest.mark.parametrize("warns", [False, True])
def test_relay_wraps_only_where_the_old_throw_warns(warns: bool,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_deadline, "OLD_THROW_WARNS", warns)
    coroutine = _catching([])
    relayed = relay(coroutine)
    assert isinstance(relayed, Relay) is warns
    assert (relayed is coroutine) is not warns
    coroutine.close()


def test_relay_is_on_exactly_where_python_deprecates_the_old_throw() -> None:
    assert _deadline.OLD_THROW_WARNS is (sys.version_info >= (3, 12))
    if not _deadline.OLD_THROW_WARNS:
        return
    # The reason for the relay, where it applies: the coroutine itself warns.
    coroutine = _catching([])
    steps = coroutine.__await__()
    steps.send(None)
    with pytest.warns(DeprecationWarning, match=r"signature of throw\(\) is deprecated"), \
            pytest.raises(StopIteration):
        steps.throw(asyncio.CancelledError, asyncio.CancelledError(), None)
