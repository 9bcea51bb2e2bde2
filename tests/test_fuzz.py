"""`schemaguard fuzz` and the checks behind it: the seeded bugs of examples/buggy_app.py are all
found, the guarded examples survive, and every check says what it saw."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest
from werkzeug.serving import make_server

import schemaguard as sg
import schemaguard.testing as sgt
from schemaguard._cases import Cases
from schemaguard.cli import main
from schemaguard.wsgi import GuardMiddleware

ROOT = Path(__file__).resolve().parent.parent
BUGGY = str(ROOT / "specs" / "buggy.yaml")
PETSTORE = str(ROOT / "specs" / "petstore-3.0.yaml")
# The seeded bugs of examples/buggy_app.py: (check, operation), one each.
SEEDED = {
    ("server_error", "GET /items"),
    ("negative_data_rejection", "POST /items"),
    ("response_schema_conformance", "POST /items"),
    ("positive_data_acceptance", "GET /items"),
    ("ignored_auth", "DELETE /items/{itemId}"),
    ("unsupported_method", "GET /items/{itemId}"),
    ("content_type_conformance", "GET /items/{itemId}"),
}


def _fuzz(*args: str, timeout: float = 120) -> tuple[subprocess.CompletedProcess[str], float]:
    started = time.monotonic()
    result = subprocess.run([sys.executable, "-m", "schemaguard", "fuzz", *args],
                            capture_output=True, text=True, timeout=timeout, cwd=ROOT)
    return result, time.monotonic() - started


def _junit(path: Path) -> set[tuple[str, str]]:
    suite = ElementTree.parse(path).getroot()
    return {(case.get("name") or "", case.get("classname") or "")
            for case in suite.iter("testcase") if case.find("failure") is not None}


# bad-inputs L16: exit 1 (not 0) on 5xx answers and response-schema violations.
def test_default_run_finds_every_seeded_bug_in_under_a_minute(tmp_path: Path) -> None:
    report = tmp_path / "fuzz.xml"
    result, seconds = _fuzz(BUGGY, "--app", "examples.buggy_app:app",
                            "--junit-xml", str(report))
    assert result.returncode == 1, result.stderr
    assert seconds < 60
    # every bug, and nothing the app does right; the output names the run's random seed.
    # (CI once missed negative_data_rejection, in under 1 of 65 seeds: random draws alone
    # can miss one rule among many. The coverage pass breaks each rule once since.)
    assert _junit(report) == SEEDED, result.stdout
    out = result.stdout
    assert "7 failures in 4 operations" in out
    assert "curl -sS -X GET 'http://127.0.0.1:8000/items?limit=100'" in out  # shrunk
    # Usually shrunk to `sort=created` alone; some seeds stop at `limit=1&sort=created`
    # (1281579756 at the lowest declared versions, found by CI), which reproduces the bug
    # all the same. The run's seed is random, so both are accepted.
    assert re.search(r"curl -sS -X GET 'http://127\.0\.0\.1:8000/items\?(limit=\d+&)?"
                     r"sort=created'", out), out
    assert "request breaks: required at security" in out
    assert "repeat with --seed" in out


# The coverage pass breaks every rule once, whatever the seed: bug 2 (a missing price or a
# long name accepted) is two rules among the thirteen of POST /items, which random draws can
# miss (CI once did). With one random request per kind, the pass alone finds it every time:
# the first of the two in its order, from the smallest full request, made smaller still.
def test_the_coverage_pass_finds_a_one_rule_bug_whatever_the_seed() -> None:
    from examples.buggy_app import create_app

    guard = sgt.oracle(BUGGY)
    operation = guard.operation("POST", "/items")
    missed = 0
    for seed in range(8):
        report = sgt.fuzz_operation(guard, sgt.WsgiTarget(create_app()), operation,
                                    max_examples=1, seed=seed)
        [failure] = [f for f in report.failures if f.check == "negative_data_rejection"]
        assert str(failure.case.rule) == "required at body /price"
        # made smaller: the optional tags the coverage pass sent are left out
        assert failure.case.request.body == b'{"name":"0"}'
        alone = sgt.fuzz_operation(guard, sgt.WsgiTarget(create_app()), operation,
                                   max_examples=1, seed=seed, coverage=0)
        missed += not any(f.check == "negative_data_rejection" for f in alone.failures)
    assert missed > 0  # one random request per kind does not find it every time


# Each seeded bug sits on one rule, one enum value or one edge of a range: the coverage pass
# finds all seven with any seed and one random request per kind, and makes each failure's
# request minimal (the pass itself sends every optional part).
def test_the_coverage_pass_finds_every_seeded_bug_with_any_seed_each_minimal() -> None:
    from examples.buggy_app import create_app

    guard = sgt.oracle(BUGGY)
    expected = {
        ("server_error", "GET /items"): ("GET", "/items", "limit=100", b""),
        ("positive_data_acceptance", "GET /items"): ("GET", "/items", "sort=created", b""),
        ("negative_data_rejection", "POST /items"): ("POST", "/items", "", b'{"name":"0"}'),
        ("response_schema_conformance", "POST /items"): (
            "POST", "/items", "", b'{"name":"0","price":0.5}'),
        ("unsupported_method", "GET /items/{itemId}"): ("PUT", "/items/1", "", b""),
        ("content_type_conformance", "GET /items/{itemId}"): (
            "GET", f"/items/{2**63 - 1}", "", b""),
        ("ignored_auth", "DELETE /items/{itemId}"): ("DELETE", "/items/1", "", b""),
    }
    for seed in (0, 1, 2):
        app = create_app()
        found = {}
        for operation in guard.operations:
            report = sgt.fuzz_operation(guard, sgt.WsgiTarget(app), operation,
                                        max_examples=1, seed=seed)
            for failure in report.failures:
                request = failure.case.request
                found[(failure.check, f"{operation.method} {operation.path_template}")] = (
                    request.method, request.path, request.query, request.body)
        assert found == expected, seed  # every bug, nothing else


def _coverage_server_error(path: str, fails: Callable[[dict[str, Any]], bool],
                           created: bytes) -> sg.HttpRequest:
    """The request of the one server error the coverage pass finds at ``POST path`` of
    specs/multipart.yaml, sent to an app that answers 500 where ``fails(environ)``."""
    def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        if fails(environ):
            start_response("500 Internal Server Error", [("Content-Type", "text/plain")])
            return [b"boom"]
        start_response("201 Created", [("Content-Type", "application/json")])
        return [created]

    spec = str(ROOT / "specs" / "multipart.yaml")
    guard = sgt.oracle(spec)
    operation = guard.operation("POST", path)
    report = sgt.fuzz_operation(guard, sgt.WsgiTarget(GuardMiddleware(app, spec)), operation,
                                max_examples=1, seed=0)
    [failure] = [f for f in report.failures if f.check == "server_error"]
    assert failure.case.rule is None
    return failure.case.request


# A form app that fails on one enum value: the coverage pass reaches `plan=team` (an edge) and
# the failure's form body keeps only the fields the guard requires and the failure needs.
def test_a_coverage_failure_in_a_form_body_is_made_minimal() -> None:
    from urllib.parse import parse_qs

    def fails(environ: dict[str, Any]) -> bool:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        return parse_qs(environ["wsgi.input"].read(length).decode()).get("plan") == ["team"]

    request = _coverage_server_error("/forms", fails, b'{"id": 1}')
    assert sorted(request.body.split(b"&")) == [b"age=0", b"name=0", b"plan=team"]


# The same with a multipart upload that fails on one enum value of its JSON part: the report
# keeps the parts the guard requires (title, file) and the one the failure needs (meta).
def test_a_coverage_failure_in_a_multipart_body_is_made_minimal() -> None:
    from werkzeug.formparser import parse_form_data

    def fails(environ: dict[str, Any]) -> bool:
        _, form, files = parse_form_data(environ)
        for upload in files.values():
            upload.close()
        return "meta" in form and json.loads(form["meta"])["source"] == "scanner"

    request = _coverage_server_error("/uploads", fails, b'{"id": "u1", "title": "t"}')
    names = re.findall(rb'Content-Disposition: form-data; name="([^"]+)"', request.body)
    assert sorted(names) == [b"file", b"meta", b"title"]
    assert b'"source":"scanner"' in request.body
    assert request.body.endswith(b"--\r\n")  # still a whole multipart body


def test_coverage_0_leaves_the_pass_out(tmp_path: Path) -> None:
    def run(*extra: str) -> tuple[int, set[tuple[str, str]]]:
        report = tmp_path / "run.xml"
        result, _ = _fuzz(BUGGY, "--app", "examples.buggy_app:create_app()", "--seed", "2",
                          "--max-examples", "1", "--junit-xml", str(report), *extra)
        assert result.returncode == 1, result.stderr
        sent = re.search(r"4 operations, (\d+) requests", result.stdout)
        assert sent is not None, result.stdout
        return int(sent.group(1)), _junit(report)

    with_pass, found = run()
    without, found_without = run("--coverage", "0")
    assert found == SEEDED  # one random request per kind: the pass finds them all
    assert found_without < SEEDED  # one random request per kind alone does not
    assert without < with_pass


# bad-inputs L16: --seed makes a run repeat exactly.
def test_a_seed_repeats_a_run_exactly(tmp_path: Path) -> None:
    def run(*extra: str) -> tuple[list[str], set[tuple[str, str]]]:
        report = tmp_path / "run.xml"
        result, _ = _fuzz(BUGGY, "--app", "examples.buggy_app:create_app()", "--seed", "7",
                          "--max-examples", "30", "--junit-xml", str(report), *extra)
        assert result.returncode == 1, result.stderr
        lines = [line for line in result.stdout.splitlines() if " s; repeat" not in line]
        return lines, _junit(report)

    first, found = run()
    assert run() == (first, found)  # the same requests, answers and shrunk examples
    # Workers each hold their own copy of the app (its state is not shared), so only the
    # failures found, not every request count, are the same.
    assert run("--workers", "2")[1] == found == SEEDED


@pytest.mark.parametrize("app", ["examples.flask_app:app", "examples.fastapi_app:app"])
def test_the_guarded_examples_survive_fuzzing(app: str) -> None:
    result, _ = _fuzz(PETSTORE, "--app", app, "--seed", "1", "--credential", "apiKey=demo-key",
                      "--credential", "bearer=demo-token")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no failures; 5 operations, " in result.stdout
    assert " 0 requests" not in result.stdout


@pytest.fixture
def served_buggy_app(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.syspath_prepend(str(ROOT))
    from examples.buggy_app import create_app

    server = make_server("127.0.0.1", 0, create_app(), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join()


def test_a_server_on_a_loopback_url_is_fuzzed_over_real_http(served_buggy_app: str) -> None:
    target = sgt.UrlTarget(served_buggy_app)
    guard = sgt.oracle(BUGGY)
    report = sgt.fuzz_operation(guard, target, guard.operation("GET", "/items"), seed=1)
    target.close()
    assert {f.check for f in report.failures} == {"server_error", "positive_data_acceptance"}
    assert report.requests > 50


# bad-inputs L16: loopback only unless --allow-remote.
# bad-inputs S33: fuzz refuses non-loopback targets unless --allow-remote.
def test_remote_urls_need_allow_remote() -> None:
    with pytest.raises(ValueError, match="not a loopback address"):
        sgt.UrlTarget("http://192.0.2.1:8000")
    assert sgt.UrlTarget("http://192.0.2.1:8000", allow_remote=True).host == "192.0.2.1"
    assert main(["fuzz", BUGGY, "--url", "http://192.0.2.1:8000"]) == 2


PRODUCTION = """\
openapi: 3.1.0
info: {title: production, version: "1"}
servers: [{url: "https://api.prod.example"}]
security: [{key: []}]
paths:
  /items:
    get:
      operationId: listItems
      responses:
        "200": {description: ok}
        "401": {description: unauthorized}
components:
  securitySchemes:
    key: {type: apiKey, in: header, name: X-API-Key}
"""


def test_s33_fuzz_refuses_a_remote_url_and_never_uses_the_spec_servers(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """bad-inputs S33: `servers` pointing at production are not a target; a remote --url
    needs --allow-remote."""
    spec = tmp_path / "openapi.yaml"
    spec.write_text(PRODUCTION, "utf-8")
    assert main(["fuzz", str(spec), "--url", "http://192.0.2.1:8000"]) == 2
    assert capsys.readouterr().err == ("error: 192.0.2.1 is not a loopback address; pass "
                                       "allow_remote (--allow-remote) to fuzz another machine\n")
    assert main(["fuzz", str(spec)]) == 2  # no target: the spec's servers are not one
    assert "--url" in capsys.readouterr().err


@pytest.mark.parametrize(("args", "message"), [
    (["specs/no-such-file.yaml", "--app", "examples.buggy_app:app"], "no-such-file"),
    ([BUGGY, "--app", "examples.no_such_module:app"], "cannot import"),
    ([BUGGY, "--app", "examples.buggy_app:nothing"], "has no attribute"),
    ([BUGGY, "--app", "examples.buggy_app"], "MODULE:ATTR"),
    ([BUGGY], "--app"),
], ids=["spec", "module", "attribute", "reference", "no-target"])
def test_an_unusable_spec_or_app_exits_2(args: list[str], message: str) -> None:
    result, _ = _fuzz(*args)
    assert result.returncode == 2
    assert message in result.stderr


# bad-inputs L16: destructive methods can be left out (DESIGN.md: opt-out, --exclude-method).
def test_excluded_methods_are_not_sent() -> None:
    result, _ = _fuzz(BUGGY, "--app", "examples.buggy_app:app", "--seed", "1",
                      "--exclude-method", "delete", "--exclude-method", "POST")
    assert "DELETE /items" not in result.stdout
    assert "POST /items" not in result.stdout
    assert "2 operations" in result.stdout


# bad-inputs L16: --max-time bounds a run: generation stops with the sending (it once went on
# drawing and discarding all 1,000 examples of every operation: 20 s for 0 requests).
def test_max_time_stops_sending() -> None:
    result, seconds = _fuzz(BUGGY, "--app", "examples.buggy_app:app", "--seed", "1",
                            "--max-time", "0.01", "--max-examples", "1000")
    assert result.returncode in (0, 1)
    assert "time limit was reached" in result.stdout
    assert seconds < 15  # interpreter start-up and the spec's compile, on a busy machine


def test_an_operation_past_the_deadline_draws_nothing_and_says_so() -> None:
    sent: list[Any] = []

    class Counting(sgt.WsgiTarget):
        def send(self, request: Any) -> Any:
            sent.append(request)
            return super().send(request)

    app = GuardMiddleware(_listing, BUGGY, verifiers={"apiKey": lambda c: c.value == "k"})
    guard = sgt.oracle(BUGGY)
    started = time.monotonic()
    report = sgt.fuzz_operation(guard, Counting(app), guard.operation("GET", "/items"),
                                max_examples=1000, seed=1, deadline=time.monotonic() - 1)
    assert time.monotonic() - started < 2  # drawing 2 x 1,000 cases takes several seconds
    assert sent == []
    assert report.requests == 0
    assert report.failures == []
    assert report.note is not None
    assert "not tested: the run's time limit" in report.note


def _listing(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
    start_response("200 OK", [("Content-Type", "application/json")])
    return [b"[]"]


# bad-inputs L16: a run is bounded by --max-examples (per operation: invalid requests, then
# valid ones) plus the coverage pass, whose size the spec fixes (one request per rule);
# DESIGN.md has no --max-requests.
@pytest.mark.parametrize("examples", [1, 5, 20])
def test_max_examples_bounds_the_requests_sent(examples: int) -> None:
    app = GuardMiddleware(_listing, BUGGY, verifiers={"apiKey": lambda c: c.value == "k"})
    guard = sgt.oracle(BUGGY)
    operation = guard.operation("GET", "/items")
    negatives, valids = Cases(guard, operation, {}).coverage()
    assert len(negatives) >= 5
    assert [c.request.query for c in valids] == [  # the smallest, then one edge each
        "limit=1&sort=name", "limit=100&sort=name", "limit=1&sort=price", "limit=1&sort=created"]
    report = sgt.fuzz_operation(guard, sgt.WsgiTarget(app), operation,
                                max_examples=examples, seed=1)
    assert report.failures == []
    swept = len(negatives) + len(valids)
    assert swept < report.requests <= swept + 2 * examples
    report = sgt.fuzz_operation(guard, sgt.WsgiTarget(app), operation,
                                max_examples=examples, seed=1, coverage=0)
    assert 0 < report.requests <= 2 * examples


def _serve(app: Any) -> Any:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                     daemon=True).start()
    return server


# bad-inputs L16: redirects are answers, never followed: requests and their credentials go to
# the base URL only.
# bad-inputs S33: no credentials across hosts, no cross-host redirects.
def test_redirects_to_another_server_are_not_followed() -> None:
    elsewhere: list[str | None] = []
    sent_keys: list[str | None] = []

    def other_app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        elsewhere.append(environ.get("HTTP_X_API_KEY"))
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]

    other = _serve(other_app)

    def redirecting(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        sent_keys.append(environ.get("HTTP_X_API_KEY"))
        location = f"http://127.0.0.1:{other.server_port}{environ['PATH_INFO']}"
        start_response("307 Temporary Redirect", [("Location", location),
                                                  ("Content-Length", "0")])
        return [b""]

    base = _serve(redirecting)
    guard = sgt.oracle(BUGGY)
    try:
        target = sgt.UrlTarget(f"http://127.0.0.1:{base.server_port}")
        report = sgt.fuzz_operation(guard, target, guard.operation("DELETE", "/items/{itemId}"),
                                    credentials={"apiKey": "k-secret"}, max_examples=5, seed=1)
        target.close()
    finally:
        base.shutdown()
        other.shutdown()
    assert report.requests == len(sent_keys) > 0
    assert "k-secret" in sent_keys
    assert elsewhere == []
    assert {f.check for f in report.failures} == {"status_code_conformance"}


def test_header_values_are_sent_but_never_printed() -> None:
    result, _ = _fuzz(BUGGY, "--app", "examples.buggy_app:app", "--seed", "1", "--max-examples",
                      "30", "--header", "X-API-Key: secret-key")
    assert result.returncode == 1
    assert "secret-key" not in result.stdout
    # The header is the credential of apiKey: valid DELETEs are sent too.
    assert "no credentials for apiKey" not in result.stdout


# -- the checks, one answer at a time ------------------------------------------------------------

GUARD = sgt.oracle(BUGGY)
LIST = GUARD.operation("GET", "/items")
CREATE = GUARD.operation("POST", "/items")
GET = GUARD.operation("GET", "/items/{itemId}")
DELETE = GUARD.operation("DELETE", "/items/{itemId}")
JSON = [("Content-Type", "application/json")]
ITEM = b'{"id": 1, "name": "a", "price": 1, "tags": []}'
VALID_LIST = sgt.Case(LIST, sg.HttpRequest("GET", "/items", "limit=5"))
INVALID_LIST = sgt.Case(LIST, sg.HttpRequest("GET", "/items", "limit=0"),
                        sgt.Rule("minimum", "query", "limit"))
PUT = sgt.Case(GET, sg.HttpRequest("PUT", "/items/1"), sgt.Rule("method", "route", status=405))
ANONYMOUS_DELETE = sgt.Case(DELETE, sg.HttpRequest("DELETE", "/items/1"),
                            sgt.Rule("required", "security", status=401))
PROBLEM = [("Content-Type", "application/problem+json")]


@pytest.mark.parametrize(("case", "response", "expected"), [
    (VALID_LIST, sg.HttpResponse(200, JSON, b"[" + ITEM + b"]"), []),
    (VALID_LIST, sg.HttpResponse(500, [("Content-Type", "text/html")], b"oops"),
     ["server_error"]),
    (VALID_LIST, sg.HttpResponse(400, PROBLEM, b"{}"), ["positive_data_acceptance"]),
    (VALID_LIST, sg.HttpResponse(422, PROBLEM, b"{}"),
     ["positive_data_acceptance", "status_code_conformance"]),
    (VALID_LIST, sg.HttpResponse(201, JSON, b"[]"), ["status_code_conformance"]),
    (VALID_LIST, sg.HttpResponse(200, [("Content-Type", "text/plain")], b"[]"),
     ["content_type_conformance"]),
    (VALID_LIST, sg.HttpResponse(200, JSON, b'[{"id": "1"}]'), ["response_schema_conformance"]),
    (INVALID_LIST, sg.HttpResponse(200, JSON, b"[]"), ["negative_data_rejection"]),
    (INVALID_LIST, sg.HttpResponse(400, PROBLEM, b"{}"), []),
    (PUT, sg.HttpResponse(200, JSON, ITEM), ["unsupported_method"]),
    (PUT, sg.HttpResponse(405, [("Allow", "GET, DELETE")], b""), []),
    (ANONYMOUS_DELETE, sg.HttpResponse(204, [], b""), ["ignored_auth"]),
    (ANONYMOUS_DELETE, sg.HttpResponse(401, PROBLEM, b"{}"), []),
    (sgt.Case(GET, sg.HttpRequest("GET", "/items/9")),
     sg.HttpResponse(404, JSON, b'{"code": 404, "message": "no"}'), []),
], ids=["conforming", "5xx", "valid-400", "valid-422-undeclared", "undeclared-status",
        "wrong-content-type", "body", "invalid-accepted", "invalid-refused", "method-200",
        "method-405", "no-credentials-204", "no-credentials-401", "declared-404"])
def test_each_check_names_what_it_saw(case: sgt.Case, response: sg.HttpResponse,
                                      expected: list[str]) -> None:
    assert sorted(f.check for f in sgt.check(GUARD, case, response)) == sorted(expected)


def test_schemaguards_own_problem_answers_count_as_conforming() -> None:
    """The guard's 401 is not declared on getItem's sibling listItems, yet a problem+json
    refusal with the status the guard gives is schemaguard's own answer (DESIGN.md)."""
    case = sgt.Case(LIST, sg.HttpRequest("GET", "/items", "limit=x"),
                    sgt.Rule("type", "query", "limit"))
    assert sgt.check(GUARD, case, sg.HttpResponse(400, PROBLEM, b"{}")) == []
    # The same refusal as plain JSON is the app's own, held to the spec (400 is declared
    # as problem+json only).
    failures = sgt.check(GUARD, case, sg.HttpResponse(400, JSON, b"{}"))
    assert [f.check for f in failures] == ["content_type_conformance"]


def test_response_headers_and_time_budget() -> None:
    guard = sgt.oracle(PETSTORE)
    case = sgt.Case(guard.operation("GET", "/pets"),
                    sg.HttpRequest("GET", "/api/pets", headers=[("X-API-Key", "k")]))
    wrong = sg.HttpResponse(200, [*JSON, ("X-Total-Count", "-1")], b"[]")  # minimum: 0
    failures = sgt.check(guard, case, wrong)
    assert [f.check for f in failures] == ["response_headers_conformance"]
    assert "X-Total-Count" in failures[0].message
    fine = sg.HttpResponse(200, [*JSON, ("X-Total-Count", "0")], b"[]")
    assert sgt.check(guard, case, fine, elapsed=0.2, max_response_time=0.5) == []
    slow = sgt.check(guard, case, fine, elapsed=0.7, max_response_time=0.5)
    assert [f.check for f in slow] == ["response_time"]
    assert "700 ms" in slow[0].message


def test_targets_turn_raising_apps_into_500s() -> None:
    def wsgi(environ: object, start_response: object) -> list[bytes]:
        raise RuntimeError("boom")

    async def asgi(scope: object, receive: object, send: object) -> None:
        raise RuntimeError("boom")

    request = sg.HttpRequest("GET", "/items")
    assert sgt.WsgiTarget(wsgi).send(request).status == 500
    target = sgt.AsgiTarget(asgi)
    assert target.send(request).status == 500
    target.close()


def test_pytest_helpers_raise_with_the_shrunk_request(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(ROOT))
    from examples.buggy_app import create_app

    target = sgt.WsgiTarget(create_app())
    with pytest.raises(sgt.ContractFailure, match=r"server_error.*\n.*limit=100") as info:
        sgt.assert_operation_conforms(GUARD, target, "listItems", seed=3)
    assert {f.check for f in info.value.failures} == {"server_error",
                                                      "positive_data_acceptance"}
    sgt.assert_conforms(GUARD, target, VALID_LIST)  # a conforming answer raises nothing
