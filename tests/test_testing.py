"""schemaguard.testing strategies: valid requests pass the guard, negative ones break exactly
the rule they name (issue 6: "that is a test")."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import FailedHealthCheck

import schemaguard as sg
import schemaguard.testing as sgt
from schemaguard._cases import Cases

SPECS = Path(__file__).resolve().parent.parent / "specs"


def _credentials(spec: sg.Spec) -> dict[str, Any]:
    schemes = (spec.content.get("components") or {}).get("securitySchemes") or {}
    return {name: "user:secret" if scheme.get("scheme") == "basic" else
            b"\x30\x03\x02\x01\x01" if scheme.get("type") == "mutualTLS" else "token-1"
            for name, scheme in schemes.items()}


def _operations() -> list[Any]:
    found = []
    for path in sorted(SPECS.glob("*.yaml")):
        guard = sgt.oracle(path)
        for operation in guard.operations:
            found.append(pytest.param(path.name, operation.method, operation.path_template,
                                      id=f"{path.stem}:{operation.method}"
                                         f"{operation.path_template}"))
    return found


_GUARDS: dict[str, sg.Guard] = {}


def _guard(name: str) -> sg.Guard:
    if name not in _GUARDS:
        _GUARDS[name] = sgt.oracle(SPECS / name)
    return _GUARDS[name]


def _verdict(guard: sg.Guard, request: sg.HttpRequest) -> sg.RequestError | None:
    try:
        guard.check_request(request)
    except sg.RequestError as error:
        return error
    return None


# A few operations carry the whole property budget; every operation of every spec gets the
# smaller one (the dev profile has 100 examples, so the suite stays quick).
PER_OPERATION = settings(max_examples=40, suppress_health_check=list(HealthCheck))


@pytest.mark.parametrize(("spec_name", "method", "template"), _operations())
def test_generated_requests_get_the_answer_they_were_built_for(
        spec_name: str, method: str, template: str) -> None:
    guard = _guard(spec_name)
    operation = guard.operation(method, template)

    @PER_OPERATION
    @given(sgt.cases(guard, operation, credentials=_credentials(guard.spec)))
    def check(case: sgt.Case) -> None:
        _assert_answer(guard, case)

    check()


def _assert_answer(guard: sg.Guard, case: sgt.Case) -> None:
    """A valid case passes the guard; a negative one fails it with exactly its rule."""
    error = _verdict(guard, case.request)
    if case.rule is None:
        assert error is None, (case.request, error.violations if error else None)
        return
    assert error is not None, f"{case.rule} was accepted: {case.request}"
    rule = case.rule
    got = {(v.location, v.name, v.pointer, v.keyword) for v in error.violations}
    assert (error.status_code, got) == (
        rule.status, {(rule.location, rule.name, rule.pointer, rule.keyword)}), case.request


def test_requests_are_valid_requests_for_the_named_operation() -> None:
    guard = _guard("petstore-3.0.yaml")

    @given(sgt.requests(guard, "createPet", credentials={"apiKey": "k", "bearer": "t"}))
    def check(request: sg.HttpRequest) -> None:
        validated = guard.check_request(request)
        assert validated is not None
        assert validated.operation.operation_id == "createPet"
        assert set(validated.body) >= {"name", "species"}

    check()


@pytest.mark.parametrize("rule", ["method", "security", "contentMediaType", "schema"])
def test_negative_requests_can_be_asked_for_one_kind_of_rule(rule: str) -> None:
    guard = _guard("petstore-3.0.yaml")
    expected = {"method": 405, "security": 401, "contentMediaType": 415, "schema": 400}[rule]
    # Undeclared methods are sent once per path: by its first operation (GET /pets here).
    operation = "listPets" if rule == "method" else "createPet"

    @settings(max_examples=25)
    @given(sgt.negative_requests(guard, operation, credentials={"apiKey": "k"},
                                 rules=[rule]))
    def check(case: sgt.Case) -> None:
        assert case.rule is not None
        assert case.rule.status == expected
        error = _verdict(guard, case.request)
        assert error is not None
        assert error.status_code == expected

    check()


def test_schema_rules_cover_types_requirements_and_bounds() -> None:
    """Over many draws, the schema rules broken for one operation span the kinds the issue
    names: a wrong type, a missing required field, a value past a bound."""
    guard = _guard("buggy.yaml")
    seen: set[str] = set()

    @settings(max_examples=300, derandomize=True)  # a coverage claim: the same draws each run
    @given(sgt.negative_requests(guard, "createItem", rules=["schema"]))
    def collect(case: sgt.Case) -> None:
        assert case.rule is not None
        seen.add(case.rule.keyword)

    collect()
    assert {"type", "required", "maxLength", "minimum", "maxItems"} <= seen


def test_string_parameters_never_carry_their_style_delimiters() -> None:
    """`{kind}-{from}-{to}`: a value holding `-` would read as another split of the segment,
    and `,` inside an item of a comma-delimited array as two items."""
    guard = _guard("F.yaml")
    operation = guard.operation("GET", "/exports/{kind}-{from}-{to}")

    @given(sgt.requests(guard, operation, credentials=_credentials(guard.spec)))
    def check(request: sg.HttpRequest) -> None:
        validated = guard.check_request(request)
        assert validated is not None
        assert all("-" not in str(v) for v in validated.path_params.values())

    check()


def test_an_operation_that_needs_credentials_says_which() -> None:
    guard = _guard("petstore-3.0.yaml")
    with pytest.raises(ValueError, match="needs credentials for one of apiKey, bearer"):
        sgt.requests(guard, "createPet")


def test_unknown_operations_and_rules_are_refused() -> None:
    guard = _guard("petstore-3.0.yaml")
    with pytest.raises(KeyError, match="noSuchOperation"):
        sgt.cases(guard, "noSuchOperation")
    with pytest.raises(ValueError, match="unknown rules"):
        sgt.negative_requests(guard, "createPet", rules=["typo"])


def test_operations_can_be_named_by_method_and_path() -> None:
    guard = _guard("buggy.yaml")
    strategy = sgt.requests(guard, "GET /items/{itemId}")

    @settings(max_examples=10)
    @given(strategy)
    def check(request: sg.HttpRequest) -> None:
        validated = guard.check_request(request)
        assert validated is not None
        assert validated.operation.operation_id == "getItem"

    check()


def test_curl_line_quotes_and_masks() -> None:
    case = sgt.Case(
        _guard("buggy.yaml").operation("POST", "/items"),
        sg.HttpRequest("POST", "/items", "a=1&b=it's", [("X-API-Key", "secret-key"),
                                                        ("Content-Type", "application/json")],
                       b'{"name": "it\'s"}'))
    line = case.curl("http://127.0.0.1:9000", secrets=frozenset({"x-api-key"}))
    assert line.startswith("curl -sS -X POST 'http://127.0.0.1:9000/items?a=1&b=it'\"'\"'s'")
    assert "secret-key" not in line
    assert "'X-API-Key: ***'" in line
    binary = sgt.Case(case.operation, sg.HttpRequest("PUT", "/raw", body=b"\x00\xff"))
    assert binary.curl().startswith("printf '\\x00\\xff' | curl")


def test_webhook_payloads_are_generated_and_judged() -> None:
    """DESIGN.md: schemaguard.testing can generate webhook payloads (OAS 3.1 `webhooks`)."""
    hooks = sgt.webhooks(SPECS / "webhooks.yaml")
    assert [(o.method, o.path_template) for o in hooks.operations] == [
        ("POST", "/petCreated"), ("POST", "/petDeleted")]

    @settings(max_examples=30)
    @given(sgt.requests(hooks, "petCreatedWebhook"))
    def check(request: sg.HttpRequest) -> None:
        validated = hooks.check_request(request)
        assert validated is not None
        assert validated.body["type"] == "pet.created"
        assert validated.headers["X-Webhook-Signature"].startswith("sha256=")

    check()
    with pytest.raises(ValueError, match="no webhooks"):
        sgt.webhooks(SPECS / "buggy.yaml")


# -- the coverage pass ---------------------------------------------------------------------

@pytest.mark.parametrize(("spec_name", "method", "template"), _operations())
def test_the_coverage_pass_breaks_each_rule_it_names_and_nothing_else(
        spec_name: str, method: str, template: str) -> None:
    guard = _guard(spec_name)
    operation = guard.operation(method, template)
    cases = sgt.coverage(guard, operation, credentials=_credentials(guard.spec))
    assert cases, "every operation gets at least one request"
    for case in cases:
        assert case.operation is operation
        _assert_answer(guard, case)
    # Invalid requests first (a valid DELETE would remove what they need to reach).
    kinds = [case.rule is None for case in cases]
    assert kinds == sorted(kinds)
    rules = [(c.request.method, c.rule.location, c.rule.name, c.rule.pointer, c.rule.keyword)
             for c in cases if c.rule is not None]  # an undeclared method: each one once
    assert len(rules) == len(set(rules)), "each rule is broken once"


def test_the_coverage_pass_breaks_every_bound_of_every_property() -> None:
    guard = _guard("buggy.yaml")
    cases = sgt.coverage(guard, "createItem")
    assert [str(c) for c in cases] == [
        "POST /items: contentMediaType at header `Content-Type`",
        "POST /items: required at body",
        "POST /items: type at body",
        "POST /items: required at body /name",
        "POST /items: required at body /price",
        "POST /items: type at body /name",
        "POST /items: maxLength at body /name",
        "POST /items: minLength at body /name",
        "POST /items: type at body /price",
        "POST /items: minimum at body /price",
        "POST /items: type at body /tags",  # tags is optional: the full request has it
        "POST /items: maxItems at body /tags",
        "POST /items: type at body /tags/0",
        "POST /items: valid",
        "POST /items: valid",
        "POST /items: valid",
        "POST /items: valid",
    ]
    # The smallest full request (every optional property there, every value at its least),
    # then one value at an edge each: the longest name, a price that is not whole (price is
    # at its minimum already), the most tags.
    assert [c.request.body for c in cases[-4:]] == [
        b'{"name":"0","price":0.0,"tags":[""]}',
        b'{"name":"' + b"a" * 20 + b'","price":0.0,"tags":[""]}',
        b'{"name":"0","price":0.5,"tags":[""]}',
        b'{"name":"0","price":0.0,"tags":["","",""]}',
    ]


def test_the_coverage_pass_reaches_each_enum_value_and_bound_of_a_parameter() -> None:
    guard = _guard("buggy.yaml")
    valid = [c.request.query for c in sgt.coverage(guard, "listItems") if c.rule is None]
    assert valid == ["limit=1&sort=name", "limit=100&sort=name", "limit=1&sort=price",
                     "limit=1&sort=created"]
    # An integer without a maximum reaches the largest 64-bit one.
    paths = [c.request.path for c in sgt.coverage(guard, "getItem") if c.rule is None]
    assert paths == ["/items/1", f"/items/{2**63 - 1}"]


def test_the_coverage_pass_fills_every_optional_parameter_and_is_deterministic() -> None:
    guard = _guard("parameter-styles.yaml")
    for operation in guard.operations:
        first = sgt.coverage(guard, operation)
        again = sgt.coverage(guard, operation)
        assert [(c.rule, c.request) for c in first] == [(c.rule, c.request) for c in again]
        valid = next(c for c in first if c.rule is None)  # the full one, before the edges
        validated = guard.check_request(valid.request)
        assert validated is not None
        declared = guard._plans[operation].parameters
        sent = {**validated.path_params, **validated.query, **validated.headers,
                **validated.cookies}
        assert {p.name for p in declared} <= set(sent), operation


def test_the_coverage_pass_without_credentials_sends_no_valid_request() -> None:
    guard = _guard("buggy.yaml")
    cases = sgt.coverage(guard, "deleteItem")
    assert [c.rule.keyword if c.rule else None for c in cases] == ["required"]
    assert cases[0].rule is not None
    assert cases[0].rule.location == "security"
    with_key = sgt.coverage(guard, "deleteItem", credentials={"apiKey": "k"})
    assert [c.rule is None for c in with_key][-1] is True


def test_the_coverage_pass_is_bounded_and_keeps_its_first_cases() -> None:
    guard = _guard("buggy.yaml")
    operation = guard.operation("POST", "/items")
    negatives, valids = Cases(guard, operation, {}).coverage()
    assert (len(negatives), len(valids)) == (13, 4)
    for limit in (1, 3, 5):
        first, valid = Cases(guard, operation, {}).coverage(limit)
        assert [str(c) for c in first] == [str(c) for c in negatives[:limit]]
        assert [c.request for c in valid] == [c.request for c in valids[:limit]]


def test_the_coverage_pass_inside_a_given_test_is_whole_or_says_why_it_cannot_run() -> None:
    # Its search is Hypothesis' own. Inside a @given test, Hypothesis 6.108 (the lowest
    # declared) runs it as it runs outside; newer ones refuse it (the nested_given health
    # check) with a message that says how to fix it. Never an empty pass.
    guard = _guard("buggy.yaml")
    outside = [str(case) for case in sgt.coverage(guard, "createItem")]
    inside: list[list[str]] = []

    @settings(max_examples=1, database=None)
    @given(st.integers())
    def run(_: int) -> None:
        inside.append([str(case) for case in sgt.coverage(guard, "createItem")])

    if hasattr(HealthCheck, "nested_given"):
        with pytest.raises(FailedHealthCheck, match="Nesting @given"):
            run()
    else:
        run()
        assert inside == [outside]
