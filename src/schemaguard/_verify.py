"""Calling security verifiers from the event loop, within ``verifier_timeout``.

A coroutine-function verifier is awaited; a sync one runs in a worker thread (it cannot be
stopped there: at the deadline its answer is discarded). Only the guard's own deadline is a
``VerifierTimeout``; a TimeoutError a verifier raises itself is its own fault (a 500).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import inspect
from collections.abc import Awaitable
from typing import Any

from ._deadline import first_step, relay, timeout_at
from ._security import Credentials, Verifier
from .errors import VerifierTimeout


async def verify(verifier: Verifier, credentials: Credentials) -> Any:
    """A verifier's answer, from the event loop: a coroutine function is awaited, a sync
    verifier runs in a worker thread (and an awaitable it returns is awaited)."""
    if inspect.iscoroutinefunction(verifier):
        return await relay(verifier(credentials))
    result = await relay(asyncio.to_thread(verifier, credentials))
    if inspect.isawaitable(result):
        return await relay(result)
    if isinstance(result, concurrent.futures.Future):
        raise future_returned(credentials.scheme)
    return result


async def verify_within(verifier: Verifier, credentials: Credentials, limit: float) -> Any:
    """verify within ``limit`` seconds, else VerifierTimeout.

    At the deadline the verifier's coroutine is cancelled (it gets CancelledError); a sync
    verifier's thread cannot be stopped: it runs on and its answer is discarded, as is any
    answer that comes after the deadline (a verifier that swallowed the cancellation, or held
    the loop). Only this deadline is a VerifierTimeout: a TimeoutError the verifier raises
    itself (its database client timing out) stays its own exception, a fault like any other.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit
    if timeout_at is None:  # Python 3.10: the whole verifier in wait_for's own task
        # (_deadline.py). Its timeout and the verifier's own look alike: the clock tells.
        try:
            result = await relay(asyncio.wait_for(verify(verifier, credentials), limit))
        except Exception:
            if loop.time() >= deadline:
                raise VerifierTimeout(credentials.scheme, limit) from None
            raise
        if loop.time() >= deadline:
            raise VerifierTimeout(credentials.scheme, limit)
        return result
    rest: Awaitable[Any]
    if inspect.iscoroutinefunction(verifier):
        # Stepped once by hand (_deadline.py): one that answers without waiting, from its
        # cache, needs no timer.
        try:
            answer, waiting = first_step(verifier(credentials))
        except Exception as exc:
            if loop.time() >= deadline:
                raise VerifierTimeout(credentials.scheme, limit) from exc
            raise
        if waiting is None:
            if loop.time() >= deadline:  # it held the loop past the deadline
                raise VerifierTimeout(credentials.scheme, limit) from None
            return answer
        rest = waiting
    else:
        rest = verify(verifier, credentials)
    scope = timeout_at(deadline)
    try:
        async with scope:
            result = await rest
    except Exception:
        if scope.expired():
            raise VerifierTimeout(credentials.scheme, limit) from None
        raise
    if scope.expired():  # the verifier swallowed the cancellation: too late all the same
        raise VerifierTimeout(credentials.scheme, limit)
    return result


def future_returned(scheme: str) -> ValueError:
    # A Future is truthy: taken as a principal, it would let every request through.
    return ValueError(f"the verifier for `{scheme}` returned a concurrent.futures.Future; "
                      "return the principal (or make the verifier async)")
