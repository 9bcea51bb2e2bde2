"""Deadlines on awaits that usually finish without waiting.

A timer (``asyncio.timeout``: a timer handle, a heap entry and its cancellation) costs a few
microseconds per request, and most of what the middlewares bound needs none: a body that came
with the headers, a verifier that answers from its cache. So an awaitable's first step is run by
hand; only when that step has to wait is the rest, a ``Resumed``, awaited under the deadline.
No wait ever happens outside it.
"""

from __future__ import annotations

import asyncio
from typing import Any

# Python 3.11+; None on 3.10, where asyncio.wait_for bounds the rest instead.
timeout = getattr(asyncio, "timeout", None)
timeout_at = getattr(asyncio, "timeout_at", None)


class Resumed:
    """An awaitable whose first step already ran and yielded ``yielded``: awaiting it hands
    that to the task and drives the rest, exactly as ``await`` (``yield from``) would have,
    throws (cancellation, the deadline) included."""

    __slots__ = ("_pending", "_yielded")

    def __init__(self, pending: Any, yielded: Any) -> None:
        self._pending = pending
        self._yielded = yielded

    def __await__(self) -> Any:
        pending, value = self._pending, self._yielded
        while True:
            try:
                sent = yield value
            except GeneratorExit:
                pending.close()
                raise
            except BaseException as exc:
                try:
                    value = pending.throw(exc)
                except StopIteration as done:
                    return done.value
            else:
                try:
                    value = pending.send(sent)
                except StopIteration as done:
                    return done.value
