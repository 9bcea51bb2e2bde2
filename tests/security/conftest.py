"""Fixtures for the request-side security tests (tests/security/test_requests_*.py).

Everything is reached through one fixture, ``kit``: the fixture-spec paths, the credentials the
counting verifiers accept, a guard factory, and assertion helpers that apply the universal
oracles of bad-inputs.md §0.4 to the framework-free core:

* "handler not reached" is ``check_request`` raising (the core has no handler);
* the problem document is well formed, has at most ``max_errors`` entries and never contains a
  value the test marks as hidden (the offending value, a secret);
* verifiers count their calls so a test can assert "callback not invoked".
"""

from __future__ import annotations

import contextlib
import json
import statistics
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import pytest

import schemaguard as sg

SPECS = Path(__file__).resolve().parents[2] / "specs"

API_KEY = "k-good-7f3a9c"
EVIL_KEY = "k-evil-0b1e55"
BEARER = "t-good-51d0e2"
BASIC_USER = "ada"
BASIC_PASSWORD = "s3cret-pass-91"
CERT_DER = b"0\x82\x01\x0atest-client-certificate-der"
# oauth tokens -> the scopes their principal carries
OAUTH_SCOPES: dict[str, Any] = {
    "t-read": ["users:read"],
    "t-write": ["users:write"],
    "t-admin": ["admin"],
    "t-read-write": "users:read users:write",  # an RFC 8693-style space-separated string
    "t-write-space": ["users:write "],
    "t-write-upper": ["Users:Write"],
    "t-writer": ["users:writer"],
    "t-a": ["a"],
    "t-ab": ["a", "b"],
}
BOOM_TOKEN = "t-boom"  # the oauth verifier raises RuntimeError("db 10.0.0.5 down")
SCOPE_ERROR_TOKEN = "t-scope-error"  # the oauth verifier raises sg.InsufficientScope
TRACE_MARKERS = ("Traceback", 'File "', "JSONDecodeError", "orjson", "Expecting ", "line 1 ",
                 "column", "site-packages", "schemaguard/_")


class Verifiers:
    """Verifiers for every scheme of F that record each call (``sg.Credentials``)."""

    def __init__(self) -> None:
        self.calls: list[sg.Credentials] = []

    def count(self, scheme: str | None = None) -> int:
        return sum(1 for c in self.calls if scheme is None or c.scheme == scheme)

    def reset(self) -> None:
        self.calls.clear()

    def mapping(self) -> dict[str, Callable[[sg.Credentials], Any]]:
        return {"bearer": self.bearer, "apiKey": self.api_key, "basicAuth": self.basic,
                "oauth": self.oauth, "oidc": self.bearer, "mtls": self.mtls}

    def bearer(self, credentials: sg.Credentials) -> Any:
        self.calls.append(credentials)
        return {"sub": "alice"} if credentials.value == BEARER else None

    def api_key(self, credentials: sg.Credentials) -> Any:
        self.calls.append(credentials)
        return {"key": "app-1"} if credentials.value == API_KEY else None

    def basic(self, credentials: sg.Credentials) -> Any:
        self.calls.append(credentials)
        ok = credentials.username == BASIC_USER and credentials.password == BASIC_PASSWORD
        return {"user": BASIC_USER} if ok else None

    def oauth(self, credentials: sg.Credentials) -> Any:
        self.calls.append(credentials)
        if credentials.value == BOOM_TOKEN:
            raise RuntimeError("db 10.0.0.5 down")
        if credentials.value == SCOPE_ERROR_TOKEN:
            raise sg.InsufficientScope(credentials.scopes)
        scopes = OAUTH_SCOPES.get(credentials.value or "")
        return None if scopes is None else {"sub": "svc", "scopes": scopes}

    def mtls(self, credentials: sg.Credentials) -> Any:
        self.calls.append(credentials)
        return {"cn": "client-1"} if credentials.client_cert == CERT_DER else None


class Kit:
    """Guard factory, request builders and oracle-checking assertions."""

    SPECS = SPECS
    API_KEY = API_KEY
    EVIL_KEY = EVIL_KEY
    BEARER = BEARER
    BASIC_USER = BASIC_USER
    BASIC_PASSWORD = BASIC_PASSWORD
    CERT_DER = CERT_DER
    BOOM_TOKEN = BOOM_TOKEN
    SCOPE_ERROR_TOKEN = SCOPE_ERROR_TOKEN
    JSON = ("Content-Type", "application/json")

    def __init__(self, verifiers: Verifiers) -> None:
        self.verifiers = verifiers

    # -- building -----------------------------------------------------------------------

    def guard(self, spec: str | dict[str, Any] = "F.yaml", **options: Any) -> sg.Guard:
        """A guard for ``specs/<spec>`` (or a spec mapping), the counting verifiers and
        ``eager=True`` (so timings never include lazy compilation) unless overridden."""
        source: Any = SPECS / spec if isinstance(spec, str) else spec
        options.setdefault("verifiers", self.verifiers.mapping())
        options.setdefault("eager", True)
        return sg.Guard(source, **options)

    @staticmethod
    def request(method: str, path: str, query: str = "",
                headers: Iterable[tuple[str, str]] = (), body: bytes = b"",
                client_cert: bytes | None = None) -> sg.HttpRequest:
        return sg.HttpRequest(method=method, path=path, query=query, headers=list(headers),
                              body=body, client_cert=client_cert)

    def key(self, value: str | None = None) -> list[tuple[str, str]]:
        return [("X-API-Key", self.API_KEY if value is None else value)]

    def bearer(self, token: str | None = None) -> list[tuple[str, str]]:
        return [("Authorization", f"Bearer {self.BEARER if token is None else token}")]

    # -- asserting ----------------------------------------------------------------------

    def ok(self, guard: sg.Guard, request: sg.HttpRequest) -> sg.ValidatedRequest:
        """The request passes and reaches the handler with a ValidatedRequest."""
        result = guard.check_request(request)
        assert isinstance(result, sg.ValidatedRequest), result
        return result

    def reject(self, guard: sg.Guard, request: sg.HttpRequest, status: int | Sequence[int], *,
               hidden: Iterable[str] = (), max_errors: int = 20) -> sg.RequestError:
        """The request is refused with ``status`` (the handler is not reached), with a
        well-formed problem document that echoes none of ``hidden``."""
        with pytest.raises(sg.RequestError) as info:
            guard.check_request(request)
        error = info.value
        self.check_problem(error, status, hidden=hidden, max_errors=max_errors)
        return error

    def check_problem(self, error: sg.RequestError, status: int | Sequence[int], *,
                      hidden: Iterable[str] = (), max_errors: int = 20) -> None:
        allowed = (status,) if isinstance(status, int) else tuple(status)
        problem = error.to_problem()
        assert error.status_code in allowed, (error.status_code, problem)
        assert problem["status"] == error.status_code
        assert {"type", "title", "status", "detail", "errors"} <= set(problem)
        assert len(problem["errors"]) <= max_errors
        assert len(error.violations) <= max_errors
        for entry in problem["errors"]:
            assert set(entry) == {"location", "name", "pointer", "keyword", "message"}, entry
        texts = [json.dumps(problem), json.dumps(problem, ensure_ascii=False), str(error),
                 repr(error.violations), repr(error.headers)]
        for value in hidden:
            for text in texts:
                assert value not in text, f"problem echoes a hidden value: {text[:300]}"
        for marker in TRACE_MARKERS:
            assert marker not in texts[1], f"problem leaks internals ({marker!r}): {texts[1]}"
        names = [name.lower() for name, _ in error.headers]
        if error.status_code == 401:
            assert "www-authenticate" in names, error.headers
        if error.status_code == 405:
            assert "allow" in names, error.headers

    @staticmethod
    def has(error: sg.RequestError, location: str | None = None, name: Any = ...,
            pointer: str | None = None, keyword: str | Sequence[str] | None = None) -> None:
        """Some violation of ``error`` matches every given field (``name=...`` means any;
        ``keyword`` may be a tuple of acceptable keywords)."""
        keywords = (keyword,) if isinstance(keyword, str) else keyword
        for v in error.violations:
            if location is not None and v.location != location:
                continue
            if name is not ... and (v.name.lower() if isinstance(v.name, str) else v.name) != (
                    name.lower() if isinstance(name, str) else name):
                continue
            if pointer is not None and v.pointer != pointer:
                continue
            if keywords is not None and v.keyword not in keywords:
                continue
            return
        raise AssertionError(f"no violation ({location}, {name}, {pointer}, {keyword}) in "
                             f"{error.violations!r}")

    @staticmethod
    def header(error: sg.RequestError, name: str) -> list[str]:
        return [value for key, value in error.headers if key.lower() == name.lower()]

    def median_ms(self, guard: sg.Guard, request: sg.HttpRequest, repeat: int = 5) -> float:
        """Median wall time of ``check_request`` (pass or refusal) in milliseconds; the
        verifier calls these repetitions make are not kept."""
        kept = list(self.verifiers.calls)
        times = []
        for _ in range(repeat):
            start = time.perf_counter()
            with contextlib.suppress(sg.RequestError):
                guard.check_request(request)
            times.append((time.perf_counter() - start) * 1000)
        self.verifiers.calls[:] = kept
        return statistics.median(times)


@pytest.fixture
def kit() -> Kit:
    return Kit(Verifiers())


@pytest.fixture(params=["F.yaml", "F-3.0.yaml"], ids=["oas31", "oas30"])
def f_spec(request: pytest.FixtureRequest) -> str:
    """Fixture F and its 3.0 twin, for rows whose outcome must not depend on the version."""
    return str(request.param)
