"""What schemaguard logs per request, and how much of it under a flood (bad-inputs L15).

Every per-request line (a rejection, a report-mode refusal, a bad response, a generic 500 or
503) goes through the guard's ``LogGate`` first. The gate answers at once when the logger
would drop the line anyway, so nothing is formatted for a level nobody listens to; with
``max_log_rate`` set, it lets at most that many lines through per second (a token bucket
holding one second's worth) and counts the rest. The next line it lets through is preceded
by one warning with that count, so a flood of 10,000 bad requests a second costs a few lines
a second, and the log still says how many were left out. Metrics (``on_violation``) see every
request whatever the gate decides.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable

from .errors import shown

logger = logging.getLogger("schemaguard")
REQUEST_ID_CHARS = 128  # of a client's X-Request-ID shown in a log line


def request_id(sent: str | None) -> str:
    """What a log line names a request by: the client's own ``X-Request-ID`` when it sent one
    (shown safely: control characters escaped, at most REQUEST_ID_CHARS), else a fresh id."""
    return shown(sent, REQUEST_ID_CHARS) if sent else uuid.uuid4().hex


class LogGate:
    """Whether a per-request log line is written: ``admit(level)``. Safe to share between
    threads; ``rate`` is lines per second (None: every line the logger takes)."""

    __slots__ = ("_burst", "_clock", "_dropped", "_first_drop", "_lock", "_stamp", "_tokens",
                 "rate")

    def __init__(self, rate: float | None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self._clock = clock
        self._lock = threading.Lock()
        self._burst = max(1.0, rate or 1.0)  # one second's worth, and at least one line
        self._tokens = self._burst
        self._stamp = clock()
        self._dropped = 0
        self._first_drop = 0.0

    def admit(self, level: int) -> bool:
        """Whether to write a line at ``level`` now; when lines were left out since the last
        one written, a warning with their count is written first."""
        if not logger.isEnabledFor(level):
            return False
        rate = self.rate
        if rate is None:
            return True
        with self._lock:
            now = self._clock()
            self._tokens = min(self._burst, self._tokens + (now - self._stamp) * rate)
            self._stamp = now
            if self._tokens < 1.0:
                if not self._dropped:
                    self._first_drop = now
                self._dropped += 1
                return False
            self._tokens -= 1.0
            dropped, self._dropped = self._dropped, 0
            since = now - self._first_drop
        if dropped:
            logger.warning("schemaguard left out %d log lines in the last %.1f s "
                           "(max_log_rate is %g per second)", dropped, since, rate,
                           extra={"schemaguard": {"suppressed": dropped}})
        return True
