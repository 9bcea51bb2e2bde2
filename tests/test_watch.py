"""The body-read watchdog (_watch.py): one per event loop, reads registered with their timeout,
cancelled never early and at most a quarter of their timeout late; and the ASGI body read
built on it (``Exchange.read``): 408 at the deadline, other cancellations left alone."""

from __future__ import annotations

import asyncio
import gc
import sys
import time
import weakref
from typing import Any

import pytest

from schemaguard import _asgi as asgi_module
from schemaguard._watch import Watchdog, watchdog
from schemaguard.errors import RequestTimeout

pytestmark = pytest.mark.skipif(sys.version_info < (3, 11),
                                reason="Task.uncancel: Python 3.10 reads under wait_for")

Message = dict[str, Any]
SLACK = 0.25  # scheduling on a loaded CI machine


async def _forever() -> None:
    """Wait for what never comes (5 s at most: a watchdog that never fires fails the test
    instead of hanging it)."""
    await asyncio.sleep(5)
    raise AssertionError("nothing cancelled the wait")


async def _watched(dog: Watchdog, seconds: float) -> tuple[str, float]:
    """Wait forever under ``dog``: how it ended and after how long."""
    loop = asyncio.get_running_loop()
    task: Any = asyncio.current_task()
    started = time.monotonic()
    dog.watch(loop, task, seconds)
    try:
        await _forever()
    except asyncio.CancelledError:
        expired = dog.release(task)
        task.uncancel()
        return ("expired" if expired else "cancelled"), time.monotonic() - started
    finally:
        dog.release(task)
    return "returned", time.monotonic() - started


def test_a_read_is_cancelled_never_early_and_at_most_a_quarter_late() -> None:
    async def main() -> list[tuple[str, float]]:
        dog = Watchdog()
        return list(await asyncio.gather(*(_watched(dog, s) for s in (0.2, 0.4, 0.8))))

    for (how, elapsed), seconds in zip(asyncio.run(main()), (0.2, 0.4, 0.8), strict=True):
        assert how == "expired"
        assert seconds <= elapsed < seconds * 1.25 + SLACK


def test_a_shorter_timeout_given_later_is_kept() -> None:
    """A long read starts the timer at its pace; a short one that comes after still gets its
    own deadline, not the long one's."""
    async def main() -> tuple[str, float]:
        dog = Watchdog()
        long = asyncio.create_task(_watched(dog, 60))
        await asyncio.sleep(0.05)
        short = await _watched(dog, 0.2)
        long.cancel()
        assert (await long)[0] == "cancelled"
        return short

    how, elapsed = asyncio.run(main())
    assert how == "expired"
    assert 0.2 <= elapsed < 0.25 + SLACK


def test_reads_released_in_time_are_left_alone_and_the_timer_stops() -> None:
    async def main() -> Watchdog:
        dog = Watchdog()
        loop = asyncio.get_running_loop()

        async def quick(delay: float) -> None:
            task: Any = asyncio.current_task()
            dog.watch(loop, task, 0.4)
            try:
                await asyncio.sleep(delay)
            finally:
                assert dog.release(task) is False

        # 200 reads, some of them across several ticks (0.05 s apart), none over 0.4 s.
        await asyncio.gather(*(quick((i % 5) * 0.05) for i in range(200)))
        assert dog.reads == {}
        await asyncio.sleep(0.2)  # the next tick finds nothing to watch
        assert not dog._armed
        return dog

    asyncio.run(main())


def test_someone_elses_cancellation_is_not_a_timeout() -> None:
    async def main() -> str:
        dog = Watchdog()
        task = asyncio.create_task(_watched(dog, 30))
        await asyncio.sleep(0.05)
        task.cancel()
        return (await task)[0]

    assert asyncio.run(main()) == "cancelled"


def test_each_loop_has_its_own_watchdog_dropped_with_it() -> None:
    async def mine() -> Watchdog:
        loop = asyncio.get_running_loop()
        body = _body([{"type": "http.request", "body": b"{", "more_body": True},
                      {"type": "http.request", "body": b"}", "more_body": False}])
        assert await body.read(1000, 30) == b"{}"  # its timer is still armed at the close
        assert watchdog(loop)._armed
        assert watchdog(loop) is watchdog(loop)
        return watchdog(loop)

    first_loop = asyncio.new_event_loop()
    first = first_loop.run_until_complete(mine())
    second_loop = asyncio.new_event_loop()
    second = second_loop.run_until_complete(mine())
    assert first is not second
    gone = weakref.ref(first_loop)
    first_loop.close()
    second_loop.close()
    del first_loop
    gc.collect()
    assert gone() is None  # the last loop looked up is the second


# -- the ASGI body read ----------------------------------------------------------------------

def _body(messages: list[Message]) -> Any:
    async def receive() -> Message:
        if messages:
            return messages.pop(0)
        await _forever()
        raise AssertionError("unreachable")

    return asgi_module.Exchange(receive)


def test_the_body_read_is_408_at_its_deadline_and_the_task_is_not_left_cancelling() -> None:
    async def main() -> tuple[float, int]:
        body = _body([{"type": "http.request", "body": b"{", "more_body": True}])
        started = time.monotonic()
        with pytest.raises(RequestTimeout):
            await body.read(1000, 0.3)
        elapsed = time.monotonic() - started
        task: Any = asyncio.current_task()
        await asyncio.sleep(0)  # no cancellation left pending for what runs next
        return elapsed, task.cancelling()

    elapsed, cancelling = asyncio.run(main())
    assert 0.3 <= elapsed < 0.375 + SLACK
    assert cancelling == 0


def test_a_body_read_cancelled_by_someone_else_is_cancelled() -> None:
    async def main() -> None:
        body = _body([])
        task = asyncio.create_task(body.read(1000, 30))
        await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert watchdog(asyncio.get_running_loop()).reads == {}

    asyncio.run(main())


def test_a_body_that_came_whole_is_read_without_waiting_and_unwatched() -> None:
    async def main() -> bytes:
        body = _body([{"type": "http.request", "body": b"{}", "more_body": False}])
        whole = await body.read(1000, 30)
        assert watchdog(asyncio.get_running_loop()).reads == {}
        assert await body.read(1000, 30) is whole  # read once: the same bytes again
        return whole

    assert asyncio.run(main()) == b"{}"


def test_a_body_read_outside_a_task_is_refused() -> None:
    """Driven by hand, without an event loop, a body that is not all there: its deadline
    cannot be kept, so it is not read."""
    body = _body([{"type": "http.request", "body": b"{", "more_body": True}])
    coroutine = body.read(1000, 30)
    with pytest.raises(RuntimeError):
        coroutine.send(None)
    coroutine.close()


def test_a_body_in_pieces_or_late_is_read_whole_under_the_watch() -> None:
    async def main() -> tuple[bytes, bytes]:
        pieces = _body([{"type": "http.request", "body": b'{"a":', "more_body": True},
                        {"type": "http.request", "body": b"1}", "more_body": False}])

        async def late() -> Message:
            await asyncio.sleep(0.05)
            return {"type": "http.request", "body": b"{}", "more_body": False}

        delayed = asgi_module.Exchange(late)
        read = (await pieces.read(1000, 30), await delayed.read(1000, 30))
        assert watchdog(asyncio.get_running_loop()).reads == {}
        return read

    assert asyncio.run(main()) == (b'{"a":1}', b"{}")
