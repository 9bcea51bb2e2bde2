"""Test an app against its spec with generated requests (needs the ``[fuzz]`` extra).

The compiled guard is the oracle: it says which generated requests are valid and which answer
each deserves, so these tests, ``schemaguard fuzz`` and the middleware never disagree::

    import schemaguard.testing as sgt
    from hypothesis import given

    guard = sgt.oracle("openapi.yaml")
    target = sgt.WsgiTarget(app)             # or AsgiTarget(app), UrlTarget("http://...")

    @given(sgt.cases(guard, "createPet", credentials={"apiKey": "test-key"}))
    def test_create_pet(case):
        sgt.assert_conforms(guard, target, case)

    @pytest.mark.parametrize("operation", guard.operations, ids=str)
    def test_api(operation):                 # every operation, every check, shrunk failures
        sgt.assert_operation_conforms(guard, target, operation, credentials={...})

    @pytest.mark.parametrize("case", sgt.coverage(guard, "createPet"), ids=str)
    def test_each_rule(case):                # every rule broken once, no randomness
        sgt.assert_conforms(guard, target, case)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from hypothesis import strategies as st

from ._cases import Case, Cases, Credential, Rule
from ._fuzz import (
    CHECKS,
    AsgiTarget,
    Failure,
    OperationReport,
    Target,
    UrlTarget,
    WsgiTarget,
    check,
    fuzz_operation,
    oracle,
    webhooks,
)
from ._guard import Guard
from ._http import HttpRequest
from ._operation import Operation

__all__ = [
    "CHECKS",
    "AsgiTarget",
    "Case",
    "ContractFailure",
    "Failure",
    "OperationReport",
    "Rule",
    "Target",
    "UrlTarget",
    "WsgiTarget",
    "assert_conforms",
    "assert_operation_conforms",
    "cases",
    "check",
    "coverage",
    "fuzz_operation",
    "negative_requests",
    "oracle",
    "requests",
    "webhooks",
]

RULES = frozenset({"method", "security", "contentMediaType", "schema"})


class ContractFailure(AssertionError):
    """An app's answers broke its spec; ``failures`` says how, each with its request."""

    def __init__(self, failures: list[Failure], base_url: str = "http://127.0.0.1:8000") -> None:
        self.failures = failures
        lines = [f"{f.check}: {f.message}\n  {f.case.curl(base_url)}" for f in failures]
        super().__init__("\n".join(lines))


def _operation(guard: Guard, operation: Operation | str) -> Operation:
    if isinstance(operation, Operation):
        return operation
    for candidate in guard.operations:
        if operation in (candidate.operation_id,
                         f"{candidate.method} {candidate.path_template}"):
            return candidate
    raise KeyError(f"no operation {operation!r} (use an operationId or 'METHOD /path')")


def requests(guard: Guard, operation: Operation | str, *,
             credentials: Mapping[str, Credential] | None = None,
             ) -> st.SearchStrategy[HttpRequest]:
    """Valid requests for ``operation`` (an operationId, "METHOD /path" or an Operation):
    parameters in their declared style, a body in one of the declared media types, and the
    credentials of one satisfiable security requirement (``credentials`` by scheme name:
    an API key, "user:password" for basic, a token for bearer, oauth2 and openIdConnect, DER
    bytes for mutualTLS)."""
    cases_ = Cases(guard, _operation(guard, operation), credentials or {})
    return cases_.valid().map(lambda case: case.request)


def negative_requests(guard: Guard, operation: Operation | str, *,
                      credentials: Mapping[str, Credential] | None = None,
                      rules: Iterable[str] | None = None) -> st.SearchStrategy[Case]:
    """Requests that break exactly one rule, each a Case naming it (``case.rule``): ``rules``
    picks among "method" (405), "security" (401), "contentMediaType" (415) and "schema" (400:
    a wrong type, a missing required value, a value past a bound)."""
    chosen = None if rules is None else frozenset(rules)
    if chosen is not None and chosen - RULES:
        raise ValueError(f"unknown rules {sorted(chosen - RULES)}; expected some of "
                         f"{sorted(RULES)}")
    return Cases(guard, _operation(guard, operation), credentials or {}).negative(chosen)


def cases(guard: Guard, operation: Operation | str, *,
          credentials: Mapping[str, Credential] | None = None) -> st.SearchStrategy[Case]:
    """Valid and negative cases for ``operation`` (what ``schemaguard fuzz`` sends)."""
    found = Cases(guard, _operation(guard, operation), credentials or {})
    strategies = [found.negative()]
    if found.requirements or not found.needs_credentials:
        strategies.insert(0, found.valid())
    return st.one_of(strategies)


def coverage(guard: Guard, operation: Operation | str, *,
             credentials: Mapping[str, Credential] | None = None,
             limit: int | None = None) -> list[Case]:
    """The coverage pass of ``operation`` (what ``schemaguard fuzz`` sends before its random
    requests), built without randomness, so it parametrizes a test: every rule the negative
    strategies can break alone, broken once (each a Case naming it), then one full valid
    request per media type (every parameter and optional property present; ``rule`` None)
    and that request with one value at an edge of its range; at most ``limit`` of each.
    """
    negatives, valids = Cases(guard, _operation(guard, operation),
                              credentials or {}).coverage(limit)
    return [*negatives, *valids]


def assert_conforms(guard: Guard, target: Target, case: Case, *,
                    max_response_time: float | None = None) -> None:
    """Send ``case`` to ``target``; raise ContractFailure when the answer breaks the spec."""
    failures = check(guard, case, target.send(case.request),
                     max_response_time=max_response_time)
    if failures:
        raise ContractFailure(failures)


def assert_operation_conforms(guard: Guard, target: Target, operation: Operation | str,
                              **options: Any) -> None:
    """Fuzz one operation (the options of ``fuzz_operation``) and raise ContractFailure with
    every distinct failure, shrunk, when there is any."""
    report = fuzz_operation(guard, target, _operation(guard, operation), **options)
    if report.failures:
        raise ContractFailure(report.failures)
