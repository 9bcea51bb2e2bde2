"""verifier_timeout (bad-inputs L07): a verifier that does not answer in time fails closed with
VerifierTimeout, on the sync path (timed: a slow answer is discarded) and the async one
(cancelled at the deadline)."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

import schemaguard as sg
from schemaguard import _verify

OK = {"200": {"description": "ok"}}
SPEC = {
    "openapi": "3.1.0",
    "info": {"title": "t", "version": "1"},
    "paths": {"/s": {"get": {"security": [{"key": []}], "responses": OK}}},
    "components": {"securitySchemes": {"key": {"type": "apiKey", "in": "header",
                                               "name": "X-Key"}}},
}
KEY = "k-9f2c-secret-value"
LIMIT = 0.05
SLOW = 0.15  # a sync verifier's sleep: three limits


def request() -> sg.HttpRequest:
    return sg.HttpRequest("GET", "/s", "", [("x-key", KEY)])


def guard(verifier: Callable[[sg.Credentials], Any], **options: Any) -> sg.Guard:
    options.setdefault("verifier_timeout", LIMIT)
    return sg.Guard(SPEC, verifiers={"key": verifier}, **options)


def check_async(g: sg.Guard) -> tuple[Any, float]:
    """check_request_async's answer (or exception) and how long the loop waited for it."""

    async def main() -> tuple[Any, float]:
        started = time.monotonic()
        try:
            answer: Any = await g.check_request_async(request())
        except Exception as exc:
            answer = exc
        return answer, time.monotonic() - started

    return asyncio.run(main())


@pytest.fixture(params=["timeout", "wait_for"])
def engine(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """The async deadline as Python 3.11+ runs it (asyncio.timeout) and as 3.10 does."""
    if request.param == "wait_for":
        monkeypatch.setattr(_verify, "timeout_at", None)
    return str(request.param)


# -- the option ------------------------------------------------------------------------------


def test_default_is_five_seconds() -> None:
    assert sg.Guard(SPEC, verifiers={"key": bool}).verifier_timeout == 5.0


@pytest.mark.parametrize("value", [1, 0.25, None], ids=["int", "float", "none"])
def test_accepted_values(value: Any) -> None:
    assert guard(bool, verifier_timeout=value).verifier_timeout == value


@pytest.mark.parametrize("value", [0, -1, 0.0, True, "5", float("nan"), float("inf"), [5]],
                         ids=["zero", "negative", "zero-float", "bool", "str", "nan", "inf",
                              "list"])
def test_bad_values_are_refused(value: Any) -> None:
    with pytest.raises(ValueError, match="verifier_timeout must be a positive number"):
        guard(bool, verifier_timeout=value)


@pytest.mark.parametrize("value", [0, -1, True, "30", float("nan"), float("inf")],
                         ids=["zero", "negative", "bool", "str", "nan", "inf"])
def test_body_timeout_takes_the_same_durations(value: Any) -> None:
    """body_timeout (the ASGI body deadline) is checked as verifier_timeout is: True or NaN
    seconds would make every body time out at once, or never."""
    with pytest.raises(ValueError, match="body_timeout must be a positive number of seconds"):
        guard(bool, body_timeout=value)
    assert guard(bool, body_timeout=2).body_timeout == 2.0


def test_middlewares_accept_the_option() -> None:
    from schemaguard.asgi import GuardMiddleware as Asgi
    from schemaguard.wsgi import GuardMiddleware as Wsgi

    for middleware in (Asgi, Wsgi):
        built = middleware(lambda *a: None, SPEC, verifiers={"key": bool}, verifier_timeout=2)
        assert built.guard.verifier_timeout == 2.0
        with pytest.raises(ValueError, match="verifier_timeout"):
            middleware(lambda *a: None, SPEC, verifiers={"key": bool}, verifier_timeout=-2)


# -- check_request: the verifier is timed ----------------------------------------------------


def _late(outcome: str) -> Callable[[sg.Credentials], Any]:
    def verifier(credentials: sg.Credentials) -> Any:
        time.sleep(SLOW)
        if outcome == "raises":
            raise RuntimeError("backend failed")
        if outcome == "insufficient-scope":
            raise sg.InsufficientScope(["x"])
        return {"sub": "late"} if outcome == "principal" else None

    return verifier


@pytest.mark.parametrize("outcome", ["principal", "falsy", "raises", "insufficient-scope"])
def test_sync_answer_after_the_deadline_is_discarded(outcome: str) -> None:
    with pytest.raises(sg.VerifierTimeout) as info:
        guard(_late(outcome)).check_request(request())
    assert info.value.scheme == "key"
    assert info.value.seconds == LIMIT
    assert not isinstance(info.value, sg.RequestError)  # the server's fault, not the client's
    assert "`key`" in str(info.value)
    assert "0.05 s" in str(info.value)
    assert KEY not in str(info.value)


def test_fast_verifier_is_unaffected() -> None:
    ok = guard(lambda c: {"sub": c.value}).check_request(request())
    assert ok is not None
    assert ok.principal == {"sub": KEY}


def test_fast_falsy_answer_is_still_a_401() -> None:
    with pytest.raises(sg.Unauthorized):
        guard(lambda c: None).check_request(request())


def test_an_operation_has_its_own_deadline() -> None:
    """operations= sets verifier_timeout per operation (None: no deadline for it)."""
    with pytest.raises(sg.VerifierTimeout) as info:
        guard(_late("principal"), verifier_timeout=None,
              operations={"GET /s": {"verifier_timeout": LIMIT}}).check_request(request())
    assert info.value.seconds == LIMIT
    ok = guard(_late("principal"), operations={"GET /s": {"verifier_timeout": None}}
               ).check_request(request())
    assert ok is not None
    assert ok.principal == {"sub": "late"}


def test_an_operation_has_its_own_async_deadline(engine: str) -> None:
    async def slow(credentials: sg.Credentials) -> Any:
        await asyncio.sleep(10)

    answer, waited = check_async(guard(slow, verifier_timeout=30,
                                       operations={"GET /s": {"verifier_timeout": LIMIT}}))
    assert isinstance(answer, sg.VerifierTimeout)
    assert waited < 1.0


@pytest.mark.parametrize("value", [0, -1, True, float("inf"), "1"])
def test_an_operations_deadline_is_checked_at_start(value: Any) -> None:
    with pytest.raises(ValueError, match="verifier_timeout must be a positive number"):
        guard(bool, operations={"GET /s": {"verifier_timeout": value}})


def test_none_disables_the_sync_deadline() -> None:
    ok = guard(_late("principal"), verifier_timeout=None).check_request(request())
    assert ok is not None
    assert ok.principal == {"sub": "late"}


def test_sync_verifier_own_timeout_error_is_not_ours() -> None:
    def verifier(credentials: sg.Credentials) -> Any:
        raise TimeoutError("db pool exhausted")

    with pytest.raises(TimeoutError, match="db pool") as info:
        guard(verifier).check_request(request())
    assert not isinstance(info.value, sg.VerifierTimeout)


# -- check_request_async: the verifier is cancelled ------------------------------------------


def test_async_verifier_is_cancelled_at_the_deadline(engine: str) -> None:
    seen: list[str] = []

    async def verifier(credentials: sg.Credentials) -> Any:
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            seen.append("cancelled")
            raise
        return {"sub": "never"}

    answer, waited = check_async(guard(verifier))
    assert isinstance(answer, sg.VerifierTimeout)
    assert answer.scheme == "key"
    assert answer.seconds == LIMIT
    assert waited < 1.0
    assert seen == ["cancelled"]


def test_async_verifier_that_swallows_the_cancellation_still_fails(engine: str) -> None:
    async def verifier(credentials: sg.Credentials) -> Any:
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.sleep(30)
        return {"sub": "late"}  # "yes", too late

    answer, waited = check_async(guard(verifier))
    assert isinstance(answer, sg.VerifierTimeout)
    assert waited < 1.0


@pytest.mark.parametrize("outcome", ["principal", "raises"])
def test_async_verifier_that_holds_the_loop_past_the_deadline_fails(engine: str,
                                                                    outcome: str) -> None:
    async def verifier(credentials: sg.Credentials) -> Any:
        time.sleep(SLOW)  # blocking work that never yields: nothing can cancel it
        if outcome == "raises":
            raise RuntimeError("backend failed")
        return {"sub": "late"}

    answer, _ = check_async(guard(verifier))
    assert isinstance(answer, sg.VerifierTimeout)


def test_sync_verifier_under_async_is_bounded_and_its_thread_runs_on(engine: str) -> None:
    finished = threading.Event()

    def verifier(credentials: sg.Credentials) -> Any:
        time.sleep(0.3)
        finished.set()
        return {"sub": "late"}

    g = guard(verifier)

    async def main() -> tuple[BaseException | None, float, bool]:
        started = time.monotonic()
        try:
            await g.check_request_async(request())
        except sg.VerifierTimeout as exc:
            return exc, time.monotonic() - started, finished.is_set()
        return None, time.monotonic() - started, finished.is_set()

    error, waited, done_by_then = asyncio.run(main())  # run() waits for the thread to end
    assert isinstance(error, sg.VerifierTimeout)
    assert waited < 0.25
    assert not done_by_then
    assert finished.is_set()


def test_awaitable_from_a_sync_verifier_is_bounded(engine: str) -> None:
    def verifier(credentials: sg.Credentials) -> Any:
        return asyncio.sleep(30, result={"sub": "never"})

    answer, waited = check_async(guard(verifier))
    assert isinstance(answer, sg.VerifierTimeout)
    assert waited < 1.0


@pytest.mark.parametrize("kind", ["builtin", "own-asyncio-deadline", "sync-in-thread"])
def test_async_verifier_own_timeout_error_is_not_ours(engine: str, kind: str) -> None:
    async def averifier(credentials: sg.Credentials) -> Any:
        if kind == "builtin":
            raise TimeoutError("db pool exhausted")
        # The verifier's own, shorter deadline on its backend call.
        return await asyncio.wait_for(asyncio.sleep(30), 0.01)

    def verifier(credentials: sg.Credentials) -> Any:
        raise TimeoutError("db pool exhausted")

    answer, waited = check_async(guard(verifier if kind == "sync-in-thread" else averifier,
                                       verifier_timeout=5))
    # asyncio.TimeoutError is the builtin TimeoutError from 3.11 on; 3.10 has its own.
    assert isinstance(answer, (TimeoutError, asyncio.TimeoutError))
    assert not isinstance(answer, sg.VerifierTimeout)
    assert waited < 1.0


def test_a_verifier_that_waits_inside_a_cancel_scope_stays_in_its_task(engine: str) -> None:
    """httpx and other anyio-based clients enter a cancel scope in the task that calls them
    and must leave it in that same task. The verifier's first step runs before any timer is
    armed; its rest must then go on in the same task (on 3.10, wait_for runs it in a task of
    its own from the start), or anyio refuses: "Attempted to exit cancel scope in a different
    task than it was entered in"."""
    anyio = pytest.importorskip("anyio")

    async def averifier(credentials: sg.Credentials) -> Any:
        with anyio.CancelScope():
            await asyncio.sleep(0.01)  # the first step has to wait
        return {"sub": credentials.value}

    answer, _ = check_async(guard(averifier))
    assert isinstance(answer, sg.ValidatedRequest)
    assert answer.principal == {"sub": KEY}


@pytest.mark.parametrize("kind", ["async", "sync"])
def test_fast_verifiers_under_async_are_unaffected(engine: str, kind: str) -> None:
    async def averifier(credentials: sg.Credentials) -> Any:
        return {"sub": credentials.value}

    def verifier(credentials: sg.Credentials) -> Any:
        return {"sub": credentials.value}

    answer, _ = check_async(guard(averifier if kind == "async" else verifier))
    assert isinstance(answer, sg.ValidatedRequest)
    assert answer.principal == {"sub": KEY}


@pytest.mark.parametrize("kind", ["async", "sync"])
def test_fast_falsy_answer_under_async_is_still_a_401(engine: str, kind: str) -> None:
    async def averifier(credentials: sg.Credentials) -> Any:
        return None

    answer, _ = check_async(guard(averifier if kind == "async" else (lambda c: None)))
    assert isinstance(answer, sg.Unauthorized)


def test_none_disables_the_async_deadline() -> None:
    async def verifier(credentials: sg.Credentials) -> Any:
        await asyncio.sleep(0.1)
        return {"sub": "patient"}

    answer, _ = check_async(guard(verifier, verifier_timeout=None))
    assert isinstance(answer, sg.ValidatedRequest)
    assert answer.principal == {"sub": "patient"}


def test_cancelling_the_request_is_not_a_verifier_timeout(engine: str) -> None:
    """A server cancelling the request task (shutdown, a client gone) stays a cancellation."""

    async def main() -> BaseException | None:
        started = asyncio.Event()

        async def verifier(credentials: sg.Credentials) -> Any:
            started.set()
            await asyncio.sleep(30)

        task = asyncio.create_task(guard(verifier, verifier_timeout=5)
                                   .check_request_async(request()))
        await started.wait()
        task.cancel()
        try:
            await task
        except BaseException as exc:
            return exc
        return None

    assert isinstance(asyncio.run(main()), asyncio.CancelledError)
