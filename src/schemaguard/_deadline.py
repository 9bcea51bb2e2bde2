"""Deadlines on awaits that usually finish without waiting, and awaits compiled code can make
of anything.

A timer (``asyncio.timeout``: a timer handle, a heap entry and its cancellation) costs a few
microseconds per request, and most of what the middlewares bound needs none: a body that came
with the headers, a verifier that answers from its cache. So an awaitable's first step is run by
hand; only when that step has to wait is the rest, a ``Relay``, awaited under the deadline.
No wait ever happens outside it. Python 3.10 has no ``asyncio.timeout``: there the whole
awaitable runs under ``asyncio.wait_for``, which drives it in a task of its own, and a step
taken in one task must not be continued in another (anyio's cancel scopes, which Starlette's
``receive`` and httpx use, refuse that).

The compiled build's ``await`` hands an exception (a cancellation, a deadline) to what it awaits
with the three-argument ``throw(type, value, traceback)`` (mypyc/mypyc#1214). Python 3.12
deprecated that form for coroutines and generators: every cancellation of an app, a verifier or
a server's ``receive`` would warn, and fail under ``-W error`` (pytest's ``filterwarnings``).
The compiled modules therefore await foreign awaitables through ``relay``, which takes either
form and passes the exception on alone.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Generator, Iterator
from types import CoroutineType
from typing import Any, TypeVar

T = TypeVar("T")

# Python 3.11+; None on 3.10, where asyncio.wait_for bounds the whole awaitable instead.
timeout = getattr(asyncio, "timeout", None)
timeout_at = getattr(asyncio, "timeout_at", None)
# Whether throw(type, value, traceback) warns on coroutines and generators (3.12+).
OLD_THROW_WARNS = sys.version_info >= (3, 12)
_NOTHING: Any = object()


class Relay(Generator[Any, Any, T]):
    """The rest of an awaitable, driven step by step for whoever awaits this: ``await`` (and
    ``yield from``) behave exactly as on the awaitable itself, cancellations included.

    ``first``: the value its first step, already run by hand, yielded (handed to the task
    before anything else is sent in).
    """

    __slots__ = ("_first", "_steps")

    def __init__(self, steps: Iterator[Any], first: Any = _NOTHING) -> None:
        self._steps: Any = steps
        self._first = first

    def __await__(self) -> Generator[Any, Any, T]:
        return self

    def __next__(self) -> Any:
        return self.send(None)

    def send(self, value: Any) -> Any:
        first = self._first
        if first is not _NOTHING:
            self._first = _NOTHING
            return first
        if value is None:
            return next(self._steps)
        return self._steps.send(value)

    def throw(self, typ: Any, value: Any = None, traceback: Any = None) -> Any:
        """Either form of throw(); the awaitable gets the exception alone."""
        self._first = _NOTHING
        exc = typ if isinstance(typ, BaseException) else value if isinstance(
            value, BaseException) else typ() if value is None else typ(value)
        if traceback is not None:
            exc = exc.with_traceback(traceback)
        throw = getattr(self._steps, "throw", None)
        if throw is None:  # a plain iterator: the exception is raised here, as yield from does
            raise exc
        return throw(exc)

    def close(self) -> None:
        self._first = _NOTHING
        close = getattr(self._steps, "close", None)
        if close is not None:
            close()


def first_step(awaitable: Awaitable[T]) -> tuple[T | None, Relay[T] | None]:
    """Run ``awaitable``'s first step by hand: ``(its result, None)`` when it finished
    without waiting, ``(None, the rest)`` when it has to wait; an exception it raises at once
    is raised here.

    This runs in Python, not in the compiled modules: where compiled code catches the
    StopIteration that carries the result, mypyc records a traceback entry first (a code
    object and a frame made up for it: ~2,000 instructions, more than the rest of the step).
    """
    if type(awaitable) is CoroutineType:  # the usual one: stepped itself, no wrapper made
        try:
            yielded = awaitable.send(None)
        except StopIteration as done:
            result: T = done.value
            return result, None
        return None, Relay(awaitable.__await__(), yielded)
    steps = awaitable.__await__()
    try:
        yielded = next(steps)
    except StopIteration as done:
        result = done.value
        return result, None
    return None, Relay(steps, yielded)


def relay(awaitable: Awaitable[T]) -> Awaitable[T]:
    """``awaitable`` as compiled code should await it: through a Relay where the
    three-argument throw() warns (3.12+), unchanged elsewhere."""
    if OLD_THROW_WARNS:
        return Relay(awaitable.__await__())
    return awaitable
