"""Body-read deadlines for the ASGI middleware: one watchdog per event loop, not a timer per
request.

A request's body almost always arrives with its headers: the middleware takes the first step
of ``receive()`` by hand and needs no deadline when that step brings the whole body. For a
body that is not all there, a timer armed per read (``asyncio.timeout``: a timer handle, a
heap entry, their cancellation) would cost more than the rest of the read (measured inside a
FastAPI app: a fifth of the guard's whole cost there). Instead the reading task is registered
with its timeout (a store and a pop), and the loop's watchdog, whose timer ticks only while
reads are in progress, cancels the reads whose time ran out and marks them as expired. The
reader turns that cancellation into a 408 and takes it back from the task (``Task.uncancel``),
as ``asyncio.timeout`` does; a cancellation from anyone else, alone or with the watchdog's,
goes on as a cancellation.

Python 3.11+ (``Task.uncancel``); the middleware uses ``asyncio.wait_for`` on 3.10.
"""

from __future__ import annotations

import asyncio
import math
import threading
import weakref
from typing import Any

Task = asyncio.Task[Any]


class Watchdog:
    """The body reads in progress on one event loop, each with its timeout in seconds.

    A read costs a store and a pop, with no clock read: while reads are in progress, the
    watchdog's timer ticks every eighth of the shortest timeout it was given, dates each read
    from the first tick that finds it, and cancels it once its timeout has passed since. So a
    read never times out early, and at most a quarter of its timeout late. An idle tick stops
    the timer; the next read starts it again.
    """

    __slots__ = ("_armed", "_expired", "_generation", "_seen", "_shortest", "reads")

    def __init__(self) -> None:
        self.reads: dict[Task, float] = {}
        self._seen: dict[Task, float] = {}  # loop.time() at the first tick that found it
        self._expired: set[Task] = set()
        self._armed = False
        # The timer is not kept (it would hold the loop, and the loop is this watchdog's key
        # in _WATCHDOGS): a timer started again sooner makes the older one a no-op instead.
        self._generation = 0
        self._shortest = math.inf  # the shortest timeout given since the timer started

    def watch(self, loop: asyncio.AbstractEventLoop, task: Task, seconds: float) -> None:
        """Cancel ``task`` once ``seconds`` pass, unless ``release`` comes first."""
        self.reads[task] = seconds
        if not self._armed or seconds < self._shortest:
            self._arm(loop, seconds)

    def release(self, task: Task) -> bool:
        """Stop watching ``task``; whether its time ran out (it was cancelled for that)."""
        self.reads.pop(task, None)
        if self._seen:
            self._seen.pop(task, None)
        if self._expired and task in self._expired:
            self._expired.discard(task)
            return True
        return False

    def _arm(self, loop: asyncio.AbstractEventLoop, seconds: float) -> None:
        self._armed = True
        self._generation += 1
        self._shortest = min(self._shortest, seconds)
        loop.call_later(self._shortest / 8, self._tick, loop, self._generation)

    def _tick(self, loop: asyncio.AbstractEventLoop, generation: int) -> None:
        if generation != self._generation:
            return  # a sooner timer took over
        reads, seen, expired = self.reads, self._seen, self._expired
        if not reads:
            self._armed, self._shortest = False, math.inf
            return
        now = loop.time()
        for task, seconds in list(reads.items()):
            if now - seen.setdefault(task, now) >= seconds and task not in expired:
                expired.add(task)
                task.cancel()
        loop.call_later(self._shortest / 8, self._tick, loop, generation)


# One watchdog per loop, dropped with its loop (a watchdog holds no reference to its loop;
# its timer does, inside the loop). The last pair looked up is kept for the next request.
_WATCHDOGS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Watchdog] = \
    weakref.WeakKeyDictionary()
_LOCK = threading.Lock()
_last: tuple[asyncio.AbstractEventLoop, Watchdog] | None = None


def watchdog(loop: asyncio.AbstractEventLoop) -> Watchdog:
    """The watchdog of ``loop`` (the running loop)."""
    global _last
    last = _last
    if last is not None and last[0] is loop:
        return last[1]
    with _LOCK:  # loops in several threads
        found = _WATCHDOGS.get(loop)
        if found is None:
            found = _WATCHDOGS[loop] = Watchdog()
    _last = (loop, found)
    return found
