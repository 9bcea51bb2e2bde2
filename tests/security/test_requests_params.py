"""Parameters under attack: bad-inputs.md §4 rows P15, P26-P29, P59 (query), P60.

Query strings are split exactly as Starlette and Werkzeug split them (``&`` only; ``;`` is data),
string-serialised integers must match ``-?[0-9]+`` (no ``int()`` leniency), a non-array
parameter sent twice is refused (frameworks disagree on which copy the handler reads), and the
field cap refuses a flood before any per-field work.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

import schemaguard as sg


def users_query(kit: Any, query: str, headers: list[tuple[str, str]] | None = None
                ) -> sg.HttpRequest:
    return kit.request("GET", "/users", query=query, headers=kit.bearer() + (headers or []))


# -- P15: int32 / int64 ranges ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "keyword"),
    [("/users/99999999999999999999", ("format", "maximum")),
     ("/users/9223372036854775808", ("format", "maximum")),
     ("/users/0", "minimum"), ("/users/-1", "minimum"),
     ("/users/-99999999999999999999", ("format", "minimum"))],
    ids=["P15-20-digits", "int64-max-plus-1", "zero", "negative", "negative-20-digits"],
)
def test_p15_path_id_range(kit: Any, f_spec: str, path: str, keyword: Any) -> None:
    request = kit.request("GET", path, headers=kit.bearer())
    value = path.rsplit("/", 1)[1]
    # Only values that cannot legitimately appear in a message quoting the schema's bounds.
    error = kit.reject(kit.guard(f_spec), request, 400, hidden=[value] if len(value) >= 20 else [])
    kit.has(error, "path", "id", "", keyword)


def test_p15_int64_max_is_accepted_exactly(kit: Any, f_spec: str) -> None:
    ok = kit.ok(kit.guard(f_spec), kit.request("GET", "/users/9223372036854775807",
                                               headers=kit.bearer()))
    assert ok.path_params == {"id": 9223372036854775807}
    assert type(ok.path_params["id"]) is int


@pytest.mark.parametrize("age", ["2147483648", "99999999999999999999", "151"],
                         ids=["P15-int32-plus-1", "20-digits", "151"])
def test_p15_body_age_range(kit: Any, f_spec: str, age: str) -> None:
    raw = b'{"name":"a","email":"a@x.io","age":' + age.encode() + b"}"
    request = kit.request("POST", "/users", headers=[*kit.key(), kit.JSON], body=raw)
    error = kit.reject(kit.guard(f_spec), request, 400, hidden=[age])
    kit.has(error, "body", None, "/age", "maximum")


@pytest.mark.parametrize("limit", ["2147483648", "99999999999999999999", "101", "0", "-5"],
                         ids=["P15-int32-plus-1", "20-digits", "101", "zero", "negative"])
def test_p15_query_limit_range(kit: Any, f_spec: str, limit: str) -> None:
    error = kit.reject(kit.guard(f_spec), users_query(kit, f"limit={limit}"), 400,
                       hidden=[limit] if len(limit) >= 20 else [])
    kit.has(error, "query", "limit", "", ("format", "maximum", "minimum"))


def test_p15_valid_limit_is_typed(kit: Any, f_spec: str) -> None:
    ok = kit.ok(kit.guard(f_spec), users_query(kit, "limit=100&zip=01234&role=admin"))
    assert ok.query == {"limit": 100, "zip": "01234", "role": "admin"}
    assert type(ok.query["limit"]) is int


# -- P26: lenient string -> integer conversion -----------------------------------------------


@pytest.mark.parametrize(
    "raw",
    ["10.0", "1e1", "0x10", "+10", "%2010%20", "10+", "1_0", "%EF%BC%91%EF%BC%90",
     "%D9%A1%D9%A0", "10%00", "0b10", "ten", "%0A10", "10%09"],
    ids=["P26-10.0", "P26-1e1", "P26-0x10", "P26-plus", "P26-spaces", "plus-as-space",
         "underscore", "fullwidth-digits", "arabic-indic-digits", "nul", "binary", "word",
         "leading-newline", "trailing-tab"],
)
def test_p26_integer_query_parameter_must_be_plain_digits(kit: Any, f_spec: str,
                                                           raw: str) -> None:
    error = kit.reject(kit.guard(f_spec), users_query(kit, f"limit={raw}"), 400,
                       hidden=["\x00"])
    kit.has(error, "query", "limit", "")


def test_p26_plain_integer_is_accepted(kit: Any) -> None:
    ok = kit.ok(kit.guard(), users_query(kit, "limit=10"))
    assert ok.query == {"limit": 10}


def test_p26_empty_value_is_refused(kit: Any) -> None:
    error = kit.reject(kit.guard(), users_query(kit, "limit="), 400)
    kit.has(error, "query", "limit", "")


# -- P27: exploded arrays --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [("tag=a", ["a"]), ("tag=a&tag=b", ["a", "b"]),
     ("&".join(f"tag=t{i}" for i in range(10)), [f"t{i}" for i in range(10)]),
     ("tag=a%2Cb", ["a,b"])],
    ids=["P27-single", "P27-two", "ten", "comma-is-data"],
)
def test_p27_exploded_array_values(kit: Any, f_spec: str, query: str,
                                   expected: list[str]) -> None:
    ok = kit.ok(kit.guard(f_spec), users_query(kit, query))
    assert ok.query == {"tag": expected}


def test_p27_too_many_items(kit: Any, f_spec: str) -> None:
    query = "&".join(f"tag=t{i}" for i in range(11))
    error = kit.reject(kit.guard(f_spec), users_query(kit, query), 400)
    kit.has(error, "query", "tag", "", "maxItems")


def test_p27_item_too_long(kit: Any) -> None:
    error = kit.reject(kit.guard(), users_query(kit, "tag=ok&tag=" + "x" * 33), 400,
                       hidden=["x" * 33])
    kit.has(error, "query", "tag", "/1", "maxLength")


# -- P28: field-count exhaustion -------------------------------------------------------------


@pytest.mark.parametrize("query", ["a=1&" * 50_000, "&" * 100_000, "tag=a&" * 50_000],
                         ids=["P28-row", "empty-fields", "declared-array"])
def test_p28_query_field_flood_is_400_fast(kit: Any, query: str) -> None:
    guard = kit.guard()
    error = kit.reject(guard, users_query(kit, query), (400, 414))
    kit.has(error, "query")
    assert kit.median_ms(guard, users_query(kit, query)) <= 100


def test_p28_field_cap_boundary(kit: Any) -> None:
    guard = kit.guard()
    fields = [f"x{i}=1" for i in range(199)] + ["limit=5"]
    ok = kit.ok(guard, users_query(kit, "&".join(fields)))
    assert ok.query == {"limit": 5}
    kit.reject(guard, users_query(kit, "&".join([*fields, "x199=1"])), 400)


def test_p28_max_fields_option(kit: Any) -> None:
    guard = kit.guard(max_fields=10)
    kit.ok(guard, users_query(kit, "&".join(f"x{i}=1" for i in range(10))))
    kit.reject(guard, users_query(kit, "&".join(f"x{i}=1" for i in range(11))), 400)


def test_p28_reject_unknown_query_option(kit: Any) -> None:
    guard = kit.guard(reject_unknown_query=True)
    kit.ok(guard, users_query(kit, "limit=5&tag=a"))
    error = kit.reject(guard, users_query(kit, "limit=5&isAdmin=1"), 400)
    kit.has(error, "query", "isAdmin", "", "additionalProperties")


# -- P29: separator smuggling and repeated scalars -------------------------------------------


@pytest.mark.parametrize("query", ["role=user;role=admin", "role=user%3Brole%3Dadmin",
                                   "role=user%26role%3Dadmin"],
                         ids=["P29-semicolon", "encoded-semicolon", "encoded-ampersand"])
def test_p29_semicolon_is_data_not_a_separator(kit: Any, f_spec: str, query: str) -> None:
    error = kit.reject(kit.guard(f_spec), users_query(kit, query), 400)
    kit.has(error, "query", "role", "", "enum")


@pytest.mark.parametrize("query", ["role=user&role=superuser", "role=superuser&role=user",
                                   "limit=5&limit=500"],
                         ids=["last-bad", "first-bad", "integer"])
def test_p29_repeated_scalar_parameter_is_refused(kit: Any, query: str) -> None:
    # Werkzeug's MultiDict hands the handler the first copy, Starlette's the last one.
    error = kit.reject(kit.guard(), users_query(kit, query), 400)
    kit.has(error, "query", query.split("=", 1)[0], "")


def test_p29_zip_pattern_is_anchored(kit: Any) -> None:
    error = kit.reject(kit.guard(), users_query(kit, "zip=12345;x"), 400)
    kit.has(error, "query", "zip", "", "pattern")


def test_p59_query_lookalike_is_not_normalised(kit: Any) -> None:
    error = kit.reject(kit.guard(), users_query(kit, "role=%EF%BD%81dmin"), 400,
                       hidden=["\uff41dmin"])
    kit.has(error, "query", "role", "", "enum")


# -- P60: header flooding --------------------------------------------------------------------

COOKIE_SPEC: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "cookies", "version": "1"},
    "paths": {"/prefs": {"get": {
        "security": [{"session": []}],
        "parameters": [{"name": "theme", "in": "cookie",
                        "schema": {"type": "string", "enum": ["dark", "light"]}}],
        "responses": {"200": {"description": "ok"}}}}},
    "components": {"securitySchemes": {"session": {"type": "apiKey", "in": "cookie",
                                                   "name": "sid"}}},
}


def _flood(cookie_tail: str) -> list[tuple[str, str]]:
    cookie = "; ".join(f"c{i}=v{i}" for i in range(7_000))[: 64 * 1024 - 40] + cookie_tail
    return [("Cookie", cookie)] + [(f"X-Header-{i}", "v" * 100) for i in range(500)]


def test_p60_header_flood_on_f(kit: Any) -> None:
    guard = kit.guard()
    request = users_query(kit, "limit=5", _flood(""))
    ok = kit.ok(guard, request)
    assert ok.query == {"limit": 5}
    assert kit.median_ms(guard, request) <= 100


def test_p60_header_flood_when_cookies_are_parsed(kit: Any) -> None:
    def session(credentials: sg.Credentials) -> Any:
        return {"sid": "ok"} if credentials.value == "s1" else None

    guard = kit.guard(COOKIE_SPEC, verifiers={"session": session})
    request = kit.request("GET", "/prefs", headers=_flood("; sid=s1; theme=dark"))
    assert len(json.dumps(request.headers)) > 64 * 1024
    ok = kit.ok(guard, request)
    assert ok.cookies == {"theme": "dark"}
    assert ok.principal == {"sid": "ok"}
    assert kit.median_ms(guard, request) <= 100


def test_p60_duplicate_session_cookie_is_ambiguous(kit: Any) -> None:
    calls: list[sg.Credentials] = []

    def session(credentials: sg.Credentials) -> Any:
        calls.append(credentials)
        return {"sid": "ok"}

    guard = kit.guard(COOKIE_SPEC, verifiers={"session": session})
    for headers in ([("Cookie", "sid=s1; sid=evil")], [("Cookie", "sid=s1"), ("Cookie", "sid=x")]):
        kit.reject(guard, kit.request("GET", "/prefs", headers=headers), 400, hidden=["evil"])
    assert calls == []
