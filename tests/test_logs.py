"""The log gate (_logs.py): per-request log lines under a flood (bad-inputs L15)."""

from __future__ import annotations

import logging
import math
import threading
from typing import Any

import pytest

import schemaguard as sg
from schemaguard._logs import LogGate

SPEC: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "t", "version": "1"},
    "paths": {"/items": {"get": {"parameters": [
        {"name": "limit", "in": "query", "schema": {"type": "integer"}}],
        "responses": {"200": {"description": "ok"}}}}},
}


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _suppressed(caplog: pytest.LogCaptureFixture) -> list[int]:
    return [r.schemaguard["suppressed"] for r in caplog.records  # type: ignore[attr-defined]
            if "suppressed" in getattr(r, "schemaguard", {})]


def test_without_a_rate_every_line_the_logger_takes_is_admitted(
        caplog: pytest.LogCaptureFixture) -> None:
    gate = LogGate(None)
    with caplog.at_level(logging.INFO, logger="schemaguard"):
        assert all(gate.admit(logging.INFO) for _ in range(1000))
    assert caplog.records == []


def test_a_level_nobody_listens_to_is_refused_and_uses_no_budget(
        caplog: pytest.LogCaptureFixture) -> None:
    clock = Clock()
    gate = LogGate(2, clock)
    with caplog.at_level(logging.WARNING, logger="schemaguard"):
        assert not any(gate.admit(logging.INFO) for _ in range(100))
        assert not LogGate(None).admit(logging.DEBUG)
    with caplog.at_level(logging.INFO, logger="schemaguard"):
        # The 100 INFO lines nobody listened to were not "left out": no budget went on them.
        assert gate.admit(logging.INFO)
        assert gate.admit(logging.INFO)
    assert _suppressed(caplog) == []


def test_at_most_rate_lines_a_second_and_the_next_one_tells_how_many_were_left_out(
        caplog: pytest.LogCaptureFixture) -> None:
    clock = Clock()
    gate = LogGate(5, clock)
    with caplog.at_level(logging.INFO, logger="schemaguard"):
        admitted = [gate.admit(logging.INFO) for _ in range(1000)]
        assert admitted.count(True) == 5  # a second's worth at once
        assert _suppressed(caplog) == []
        clock.now += 0.1  # half a line's worth: still nothing
        assert not gate.admit(logging.INFO)
        clock.now += 0.1
        assert gate.admit(logging.INFO)
    assert _suppressed(caplog) == [996]
    [summary] = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert summary.getMessage() == ("schemaguard left out 996 log lines in the last 0.2 s "
                                    "(max_log_rate is 5 per second)")
    with caplog.at_level(logging.INFO, logger="schemaguard"):
        clock.now += 1.0
        assert gate.admit(logging.INFO)  # nothing left out since: no second summary
    assert _suppressed(caplog) == [996]


def test_a_rate_below_one_a_second_lets_one_line_through_per_period() -> None:
    clock = Clock()
    gate = LogGate(0.1, clock)
    logging.getLogger("schemaguard").setLevel(logging.INFO)
    try:
        assert gate.admit(logging.INFO)
        clock.now += 9.0
        assert not gate.admit(logging.INFO)
        clock.now += 1.0
        assert gate.admit(logging.INFO)
    finally:
        logging.getLogger("schemaguard").setLevel(logging.NOTSET)


def test_threads_share_one_budget(caplog: pytest.LogCaptureFixture) -> None:
    gate = LogGate(50, Clock())  # the clock stands still: 50 lines in all
    admitted: list[bool] = []

    def flood() -> None:
        admitted.extend(gate.admit(logging.INFO) for _ in range(500))

    with caplog.at_level(logging.INFO, logger="schemaguard"):
        threads = [threading.Thread(target=flood) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert admitted.count(True) == 50
    assert len(admitted) == 4000


@pytest.mark.parametrize("value", [0, -1, True, math.inf, math.nan, "10"])
def test_max_log_rate_must_be_a_positive_number(value: Any) -> None:
    with pytest.raises(ValueError, match="max_log_rate must be a positive number per second"):
        sg.Guard(SPEC, max_log_rate=value)


def test_report_mode_lines_go_through_the_gate_and_metrics_see_every_request(
        caplog: pytest.LogCaptureFixture) -> None:
    seen: list[int] = []
    guard = sg.Guard(SPEC, mode="report", max_log_rate=3,
                     on_violation=lambda error, operation: seen.append(error.status_code))
    with caplog.at_level(logging.INFO, logger="schemaguard"):
        for _ in range(40):
            assert guard.check_request(sg.HttpRequest("GET", "/items", "limit=x", [])) is None
    would_reject = [r for r in caplog.records if r.getMessage().startswith(
        "schemaguard would reject a request")]
    assert 3 <= len(would_reject) <= 5  # 3 at once, and 3 a second after
    assert seen == [400] * 40
