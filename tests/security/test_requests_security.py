"""Authentication and authorization under attack: bad-inputs.md §4 rows P38-P49.

Verifiers count their calls (``kit.verifiers``), so "callback not invoked" is asserted
directly. Security runs after routing and the declared-length check and before Content-Type,
parameters and the body (DESIGN.md order of checks); it is fail-closed: malformed or ambiguous
credentials never reach a verifier, a scheme without a verifier refuses to build, a raising
verifier never lets the request through.

Documented behaviour of the core for P39/P40: the core sees the raw header list (ASGI), so a
credential header sent twice is a 400 and an ``x_api_key`` header is not ``X-API-Key``. Under
WSGI the server has already merged repeats into one ``good,evil`` value: the core then passes it
to the verifier as one opaque value, which must refuse it.
"""

from __future__ import annotations

import asyncio
import base64
import json
import urllib.parse
from typing import Any

import pytest

import schemaguard as sg


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def create_user(kit: Any, headers: list[tuple[str, str]], body: bytes | None = None
                ) -> sg.HttpRequest:
    raw = b'{"name":"bob","email":"b@x.io"}' if body is None else body
    return kit.request("POST", "/users", headers=[*headers, kit.JSON], body=raw)


def spec_with(security: list[dict[str, list[str]]], schemes: dict[str, Any],
              method: str = "get") -> dict[str, Any]:
    return {"openapi": "3.1.0", "info": {"title": "sec", "version": "1"},
            "paths": {"/thing": {method: {"security": security,
                                          "responses": {"200": {"description": "ok"}}}}},
            "components": {"securitySchemes": schemes}}


# -- P38: header names are case-insensitive --------------------------------------------------


@pytest.mark.parametrize("name", ["x-api-key", "X-API-KEY", "X-Api-Key", "x-API-key"])
def test_p38_api_key_header_name_case(kit: Any, f_spec: str, name: str) -> None:
    ok = kit.ok(kit.guard(f_spec), create_user(kit, [(name, kit.API_KEY)]))
    assert ok.principal == {"key": "app-1"}
    assert ok.body == {"name": "bob", "email": "b@x.io"}
    assert [c.value for c in kit.verifiers.calls] == [kit.API_KEY]


# -- P39: duplicated credentials -------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [[("X-API-Key", "GOOD"), ("X-API-Key", "EVIL")],
     [("X-API-Key", "EVIL"), ("X-API-Key", "GOOD")],
     [("x-api-key", "GOOD"), ("X-API-KEY", "EVIL")],
     [("X-API-Key", "GOOD"), ("X-API-Key", "GOOD")]],
    ids=["P39-good-evil", "evil-good", "mixed-case-names", "same-value-twice"],
)
def test_p39_duplicate_api_key_is_400_without_calling_the_verifier(
        kit: Any, headers: list[tuple[str, str]]) -> None:
    real = [(n, kit.API_KEY if v == "GOOD" else kit.EVIL_KEY) for n, v in headers]
    error = kit.reject(kit.guard(), create_user(kit, real), 400,
                       hidden=[kit.API_KEY, kit.EVIL_KEY])
    kit.has(error, "security")
    assert kit.verifiers.count() == 0


@pytest.mark.parametrize(
    ("path", "second"),
    [("/users/1", "Bearer t-evil"), ("/users/1", "Basic ZXZpbDpldmls"),
     ("/admin/stats", "Bearer t-admin")],
    ids=["P39-two-bearer", "bearer-and-basic", "admin-basic-and-bearer"],
)
def test_p39_duplicate_authorization_is_400(kit: Any, path: str, second: str) -> None:
    first = (basic(kit.BASIC_USER, kit.BASIC_PASSWORD) if path == "/admin/stats"
             else f"Bearer {kit.BEARER}")
    headers = [("Authorization", first), ("authorization", second)]
    if path == "/admin/stats":
        headers += kit.key()
    error = kit.reject(kit.guard(), kit.request("GET", path, headers=headers), 400,
                       hidden=[kit.BEARER, "t-evil", "ZXZpbDpldmls"])
    kit.has(error, "security")
    assert kit.verifiers.count("bearer") == kit.verifiers.count("basicAuth") == 0
    assert kit.verifiers.count("oauth") == 0


def test_p39_wsgi_merged_api_key_is_one_opaque_value(kit: Any) -> None:
    merged = f"{kit.API_KEY},{kit.EVIL_KEY}"
    error = kit.reject(kit.guard(), create_user(kit, [("X-API-Key", merged)]), 401,
                       hidden=[kit.API_KEY, kit.EVIL_KEY])
    kit.has(error, "security")
    assert [c.value for c in kit.verifiers.calls] == [merged]


def test_p39_wsgi_merged_authorization_never_authenticates(kit: Any) -> None:
    merged = f"Bearer {kit.BEARER}, Bearer t-evil"
    kit.reject(kit.guard(), kit.request("GET", "/users/1", headers=[("Authorization", merged)]),
               401, hidden=[kit.BEARER])
    assert all(c.value != kit.BEARER for c in kit.verifiers.calls)


def test_p39_duplicate_credential_async(kit: Any) -> None:
    headers = [("X-API-Key", kit.API_KEY), ("X-API-Key", kit.EVIL_KEY)]
    with pytest.raises(sg.RequestError) as info:
        asyncio.run(kit.guard().check_request_async(create_user(kit, headers)))
    kit.check_problem(info.value, 400, hidden=[kit.EVIL_KEY])
    assert kit.verifiers.count() == 0


# -- P40: underscore/dash conflation ---------------------------------------------------------


@pytest.mark.parametrize("name", ["x_api_key", "X_API_KEY", "x-api_key", "xapikey", "x-api-key "],
                         ids=["P40-row", "upper", "mixed", "no-separator", "trailing-space"])
def test_p40_lookalike_header_names_are_not_the_api_key(kit: Any, name: str) -> None:
    error = kit.reject(kit.guard(), create_user(kit, [(name, kit.API_KEY)]), 401,
                       hidden=[kit.API_KEY])
    kit.has(error, "security")
    assert kit.verifiers.count() == 0


# -- P41: missing credentials ----------------------------------------------------------------


def test_p41_missing_bearer_is_401_with_challenge(kit: Any, f_spec: str) -> None:
    error = kit.reject(kit.guard(f_spec), kit.request("GET", "/users/1"), 401)
    challenges = kit.header(error, "WWW-Authenticate")
    assert any(c.lower().startswith("bearer") for c in challenges), challenges
    kit.has(error, "security")
    assert kit.verifiers.count() == 0


def test_p41_missing_api_key_has_a_challenge(kit: Any) -> None:
    error = kit.reject(kit.guard(), create_user(kit, []), 401)
    assert kit.header(error, "WWW-Authenticate")
    assert kit.verifiers.count() == 0


def test_p41_missing_credentials_async(kit: Any) -> None:
    with pytest.raises(sg.Unauthorized) as info:
        asyncio.run(kit.guard().check_request_async(kit.request("GET", "/users/1")))
    kit.check_problem(info.value, 401)


def test_p41_rejected_token_is_401(kit: Any) -> None:
    error = kit.reject(kit.guard(), kit.request("GET", "/users/1", headers=kit.bearer("t-nope")),
                       401, hidden=["t-nope"])
    kit.has(error, "security")
    assert [c.value for c in kit.verifiers.calls] == ["t-nope"]


# -- P42: malformed Basic credentials --------------------------------------------------------


@pytest.mark.parametrize(
    "authorization",
    ["Basic !!!", "Basic dXNlcnB3", "Basic //79", "Basic ", "Basic", "Basic a b",
     "Basic " + base64.b64encode(b"ada:\xff\xfe").decode(), "Basic ====",
     "Basic " + base64.b64encode(b"ada:s3cret-pass-91").decode() + "!"],
    ids=["P42-bang", "P42-no-colon", "P42-non-utf8", "empty", "no-space", "two-tokens",
         "non-utf8-password", "padding-only", "trailing-junk"],
)
def test_p42_malformed_basic_never_reaches_the_verifier(kit: Any, authorization: str) -> None:
    headers = [*kit.key(), ("Authorization", authorization)]
    kit.reject(kit.guard(), kit.request("GET", "/admin/stats", headers=headers), 401)
    assert kit.verifiers.count("basicAuth") == 0
    assert kit.verifiers.count("oauth") == 0


@pytest.mark.parametrize(
    ("headers", "status"),
    [(["key", "basic"], None), (["key"], 401), (["basic"], 401), (["key", "wrong-basic"], 401),
     (["evil-key", "basic"], 401), (["admin-token"], None), (["read-token"], 403)],
    ids=["key-and-basic", "key-only", "basic-only", "wrong-password", "wrong-key",
         "oauth-admin", "oauth-without-admin"],
)
def test_p42_admin_stats_requirement_semantics(kit: Any, headers: list[str],
                                               status: int | None) -> None:
    parts = {"key": kit.key()[0], "evil-key": kit.key(kit.EVIL_KEY)[0],
             "basic": ("Authorization", basic(kit.BASIC_USER, kit.BASIC_PASSWORD)),
             "wrong-basic": ("Authorization", basic(kit.BASIC_USER, "guess")),
             "admin-token": kit.bearer("t-admin")[0], "read-token": kit.bearer("t-read")[0]}
    request = kit.request("GET", "/admin/stats", headers=[parts[h] for h in headers])
    guard = kit.guard()
    if status is None:
        ok = kit.ok(guard, request)
        if "key" in headers:  # (apiKey AND basicAuth): the first scheme's principal
            assert ok.principal == {"key": "app-1"}
            assert ok.principals == {"apiKey": {"key": "app-1"},
                                     "basicAuth": {"user": kit.BASIC_USER}}
            basic_call = next(c for c in kit.verifiers.calls if c.scheme == "basicAuth")
            assert (basic_call.username, basic_call.password) == (kit.BASIC_USER,
                                                                  kit.BASIC_PASSWORD)
        else:
            assert ok.principal == {"sub": "svc", "scopes": ["admin"]}
    else:
        kit.reject(guard, request, status, hidden=[kit.BASIC_PASSWORD, kit.EVIL_KEY, "guess"])


# -- P43: bearer scheme spelling and malformed tokens ----------------------------------------


@pytest.mark.parametrize("scheme", ["bearer", "BEARER", "Bearer", "bEaReR"])
def test_p43_auth_scheme_is_case_insensitive(kit: Any, f_spec: str, scheme: str) -> None:
    request = kit.request("GET", "/users/1", headers=[("authorization", f"{scheme} {kit.BEARER}")])
    ok = kit.ok(kit.guard(f_spec), request)
    assert ok.principal == {"sub": "alice"}
    assert [c.value for c in kit.verifiers.calls] == [kit.BEARER]


@pytest.mark.parametrize(
    "authorization",
    ["Bearer ", "Bearer", "Bearer  a b", "Bearer a b", "Bearer a\tb", "Bearer t\x00k",
     "Bearer ÿ", "Bearer =abc", "Token abc"],
    ids=["P43-empty", "P43-no-space", "P43-row-spaces", "space-in-token", "tab-in-token", "nul",
         "non-ascii", "padding-first", "other-scheme"],
)
def test_p43_malformed_bearer_never_reaches_the_verifier(kit: Any, authorization: str) -> None:
    request = kit.request("GET", "/users/1", headers=[("Authorization", authorization)])
    kit.reject(kit.guard(), request, 401, hidden=["\x00"])
    assert kit.verifiers.count() == 0


# -- P44: scopes -----------------------------------------------------------------------------


def test_p44_insufficient_scope_is_403(kit: Any, f_spec: str) -> None:
    request = kit.request("DELETE", "/users/1", headers=kit.bearer("t-read"))
    error = kit.reject(kit.guard(f_spec), request, 403, hidden=["t-read"])
    challenges = kit.header(error, "WWW-Authenticate")
    assert any('error="insufficient_scope"' in c for c in challenges), challenges
    kit.has(error, "security")
    assert [c.scopes for c in kit.verifiers.calls] == [("users:write",)]


@pytest.mark.parametrize("token", ["t-write", "t-read-write"], ids=["list", "space-separated"])
def test_p44_required_scope_present(kit: Any, token: str) -> None:
    ok = kit.ok(kit.guard(), kit.request("DELETE", "/users/1", headers=kit.bearer(token)))
    assert ok.path_params == {"id": 1}
    assert ok.principals == {"oauth": ok.principal}


@pytest.mark.parametrize("token", ["t-write-space", "t-write-upper", "t-writer", "t-admin"],
                         ids=["trailing-space", "case", "prefix", "other-scope"])
def test_p44_scopes_compare_as_exact_strings(kit: Any, token: str) -> None:
    request = kit.request("DELETE", "/users/1", headers=kit.bearer(token))
    kit.reject(kit.guard(), request, 403)


def test_p44_verifier_raising_insufficient_scope_is_403(kit: Any) -> None:
    request = kit.request("DELETE", "/users/1", headers=kit.bearer(kit.SCOPE_ERROR_TOKEN))
    error = kit.reject(kit.guard(), request, 403)
    assert any('error="insufficient_scope"' in c for c in kit.header(error, "WWW-Authenticate"))


def test_p44_all_required_scopes(kit: Any) -> None:
    schemes = {"oauth": {"type": "oauth2", "flows": {"clientCredentials": {
        "tokenUrl": "https://idp.example/token", "scopes": {"a": "a", "b": "b"}}}}}
    guard = kit.guard(spec_with([{"oauth": ["a", "b"]}], schemes),
                      verifiers={"oauth": kit.verifiers.oauth})
    kit.reject(guard, kit.request("GET", "/thing", headers=kit.bearer("t-a")), 403)
    ok = kit.ok(guard, kit.request("GET", "/thing", headers=kit.bearer("t-ab")))
    assert ok.principal == {"sub": "svc", "scopes": ["a", "b"]}


def test_p44_insufficient_scope_async(kit: Any) -> None:
    async def oauth(credentials: sg.Credentials) -> Any:
        await asyncio.sleep(0)
        return kit.verifiers.oauth(credentials)

    verifiers = {**kit.verifiers.mapping(), "oauth": oauth}
    guard = kit.guard(verifiers=verifiers)
    request = kit.request("DELETE", "/users/1", headers=kit.bearer("t-read"))
    with pytest.raises(sg.Forbidden) as info:
        asyncio.run(guard.check_request_async(request))
    kit.check_problem(info.value, 403)
    ok = asyncio.run(guard.check_request_async(
        kit.request("DELETE", "/users/1", headers=kit.bearer("t-write"))))
    assert isinstance(ok, sg.ValidatedRequest)
    assert ok.principal == {"sub": "svc", "scopes": ["users:write"]}


# -- P45: a verifier that raises -------------------------------------------------------------


def _assert_fault_not_leaked(exc: BaseException) -> None:
    """A raising verifier is a server-side fault (the middleware answers a generic 500): the
    core must not turn it into a pass or a client error; if it is a RequestError it is a 5xx
    that names neither the message nor the IP."""
    if isinstance(exc, sg.RequestError):
        assert exc.status_code >= 500
        assert "10.0.0.5" not in json.dumps(exc.to_problem())


# bad-inputs L07 (core side): a raising verifier never passes; the adapters answer 500.
def test_p45_raising_verifier_never_lets_the_request_through(kit: Any) -> None:
    request = kit.request("DELETE", "/users/1", headers=kit.bearer(kit.BOOM_TOKEN))
    with pytest.raises(Exception) as info:  # noqa: PT011 - any fault, as long as not a pass
        kit.guard().check_request(request)
    _assert_fault_not_leaked(info.value)
    assert kit.verifiers.count("oauth") == 1


def test_p45_raising_async_verifier(kit: Any) -> None:
    async def bearer(credentials: sg.Credentials) -> Any:
        raise RuntimeError("db 10.0.0.5 down")

    guard = kit.guard(verifiers={**kit.verifiers.mapping(), "bearer": bearer})
    with pytest.raises(Exception) as info:  # noqa: PT011
        asyncio.run(guard.check_request_async(kit.request("GET", "/users/1",
                                                          headers=kit.bearer())))
    _assert_fault_not_leaked(info.value)


def test_p45_credentials_repr_hides_secrets(kit: Any) -> None:
    kit.ok(kit.guard(), kit.request("GET", "/admin/stats",
                                    headers=[*kit.key(), ("Authorization",
                                                          basic(kit.BASIC_USER,
                                                                kit.BASIC_PASSWORD))]))
    for credentials in kit.verifiers.calls:
        text = repr(credentials) + str(credentials)
        assert kit.API_KEY not in text
        assert kit.BASIC_PASSWORD not in text


# -- P46: a used scheme without a verifier ---------------------------------------------------


@pytest.mark.parametrize("missing", ["bearer", "apiKey", "basicAuth", "oauth"])
def test_p46_missing_verifier_refuses_to_build(kit: Any, f_spec: str, missing: str) -> None:
    verifiers = {k: v for k, v in kit.verifiers.mapping().items() if k != missing}
    with pytest.raises(ValueError, match=missing):
        kit.guard(f_spec, verifiers=verifiers)


def test_p46_unused_schemes_need_no_verifier(kit: Any) -> None:
    verifiers = {k: v for k, v in kit.verifiers.mapping().items() if k not in ("oidc", "mtls")}
    kit.guard(verifiers=verifiers, eager=False)


def test_p46_oidc_used_without_verifier(kit: Any) -> None:
    schemes = {"oidc": {"type": "openIdConnect",
                        "openIdConnectUrl": "https://idp.example/.well-known/openid-configuration"}}
    spec = spec_with([{"oidc": []}], schemes)
    with pytest.raises(ValueError, match="oidc"):
        kit.guard(spec, verifiers={})
    with pytest.raises(ValueError, match="oidc"):
        kit.guard(spec, verifiers={"oidc": "not callable"})
    for eager in (False, True):
        guard = kit.guard(spec, verifiers={"oidc": kit.verifiers.bearer}, eager=eager)
        ok = kit.ok(guard, kit.request("GET", "/thing", headers=kit.bearer()))
        assert ok.principal == {"sub": "alice"}


# bad-inputs L08: a coroutine from a verifier is a configuration error in the sync check.
def test_p46_async_verifier_in_sync_check_fails_closed(kit: Any) -> None:
    async def bearer(credentials: sg.Credentials) -> Any:
        return {"sub": "alice"}

    def returns_awaitable(credentials: sg.Credentials) -> Any:
        return bearer(credentials)

    request = kit.request("GET", "/users/1", headers=kit.bearer())
    for verifier in (bearer, returns_awaitable):
        guard = kit.guard(verifiers={**kit.verifiers.mapping(), "bearer": verifier})
        with pytest.raises(ValueError, match="check_request_async"):
            guard.check_request(request)
        ok = asyncio.run(guard.check_request_async(request))
        assert isinstance(ok, sg.ValidatedRequest)
        assert ok.principal == {"sub": "alice"}


# -- P47: security: [] -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [[], [("Authorization", "Bearer t-garbage")], [("Authorization", "Basic !!!")],
     [("X-API-Key", "x"), ("X-API-Key", "y")]],
    ids=["P47-none", "garbage-bearer", "malformed-basic", "duplicate-key"],
)
def test_p47_public_operation_needs_no_credentials(kit: Any, f_spec: str,
                                                   headers: list[tuple[str, str]]) -> None:
    ok = kit.ok(kit.guard(f_spec), kit.request("GET", "/public/ping", headers=headers))
    assert ok.principal is None
    assert ok.principals == {}
    assert kit.verifiers.count() == 0


def test_p47_optional_security_still_refuses_bad_credentials(kit: Any) -> None:
    schemes = {"bearer": {"type": "http", "scheme": "bearer"}}
    guard = kit.guard(spec_with([{}, {"bearer": []}], schemes),
                      verifiers={"bearer": kit.verifiers.bearer})
    assert kit.ok(guard, kit.request("GET", "/thing")).principal is None
    kit.reject(guard, kit.request("GET", "/thing", headers=kit.bearer("t-bad")), 401)
    kit.reject(guard, kit.request("GET", "/thing", headers=[("Authorization", "Bearer ")]), 401)
    assert kit.ok(guard, kit.request("GET", "/thing", headers=kit.bearer())).principal == {
        "sub": "alice"}


# -- P48: authentication before the body -----------------------------------------------------


@pytest.mark.parametrize("content_type", ["application/json", "text/plain", None],
                         ids=["P48-json", "undeclared-type", "no-type"])
def test_p48_auth_precedes_body_parsing(kit: Any, content_type: str | None) -> None:
    guard = kit.guard()
    body = b'{"name": "' + b"x" * (900 * 1024) + b'", oops'
    headers = [("Content-Type", content_type)] if content_type else []
    request = kit.request("POST", "/users", headers=headers, body=body)
    error = kit.reject(guard, request, 401)
    kit.has(error, "security")
    assert kit.median_ms(guard, request) <= 20


# -- P49: mutualTLS --------------------------------------------------------------------------

MTLS_SPEC = spec_with([{"mtls": []}], {"mtls": {"type": "mutualTLS"}})
PEM = ("-----BEGIN CERTIFICATE-----\n"
       + base64.encodebytes(b"0\x82\x01\x0atest-client-certificate-der").decode()
       + "-----END CERTIFICATE-----\n")
EVIL_PEM = ("-----BEGIN CERTIFICATE-----\n" + base64.encodebytes(b"0\x82evil-cert").decode()
            + "-----END CERTIFICATE-----\n")


def _mtls_guard(kit: Any, **options: Any) -> sg.Guard:
    return kit.guard(MTLS_SPEC, verifiers={"mtls": kit.verifiers.mtls}, **options)


def test_p49_server_reported_certificate_reaches_the_verifier(kit: Any) -> None:
    ok = kit.ok(_mtls_guard(kit), kit.request("GET", "/thing", client_cert=kit.CERT_DER))
    assert ok.principal == {"cn": "client-1"}
    assert [c.client_cert for c in kit.verifiers.calls] == [kit.CERT_DER]


@pytest.mark.parametrize(
    "headers",
    [[("X-Client-Cert", PEM)], [("X-SSL-Client-Verify", "SUCCESS")],
     [("X-Client-Cert", PEM), ("X-SSL-Client-Verify", "SUCCESS")],
     [("X-Forwarded-Client-Cert", f"Hash=abc;Cert={urllib.parse.quote(PEM)}")], []],
    ids=["P49-pem-header", "P49-verify-header", "both", "xfcc", "nothing"],
)
def test_p49_client_headers_claiming_a_certificate_are_401(
        kit: Any, headers: list[tuple[str, str]]) -> None:
    error = kit.reject(_mtls_guard(kit), kit.request("GET", "/thing", headers=headers), 401)
    assert kit.header(error, "WWW-Authenticate")
    assert kit.verifiers.count() == 0


@pytest.mark.parametrize("value", [PEM, urllib.parse.quote(PEM), PEM.replace("\n", " ")],
                         ids=["pem", "url-escaped", "spaces"])
def test_p49_trusted_proxy_header(kit: Any, value: str) -> None:
    guard = _mtls_guard(kit, trusted_proxy_cert_header="X-Client-Cert")
    ok = kit.ok(guard, kit.request("GET", "/thing", headers=[("x-client-cert", value)]))
    assert ok.principal == {"cn": "client-1"}
    assert [c.client_cert for c in kit.verifiers.calls] == [kit.CERT_DER]


@pytest.mark.parametrize("value", ["", "SUCCESS", "-----BEGIN CERTIFICATE-----\n!!\n"
                                                  "-----END CERTIFICATE-----"],
                         ids=["empty", "not-pem", "bad-base64"])
def test_p49_trusted_proxy_header_garbage_is_401(kit: Any, value: str) -> None:
    guard = _mtls_guard(kit, trusted_proxy_cert_header="x-client-cert")
    kit.reject(guard, kit.request("GET", "/thing", headers=[("X-Client-Cert", value)]), 401)
    assert kit.verifiers.count() == 0


def test_p49_other_header_than_the_trusted_one_is_ignored(kit: Any) -> None:
    guard = _mtls_guard(kit, trusted_proxy_cert_header="x-client-cert")
    kit.reject(guard, kit.request("GET", "/thing", headers=[("X-SSL-Client-Cert", PEM)]), 401)
    assert kit.verifiers.count() == 0


def test_p49_tls_certificate_wins_over_the_proxy_header(kit: Any) -> None:
    guard = _mtls_guard(kit, trusted_proxy_cert_header="x-client-cert")
    request = kit.request("GET", "/thing", headers=[("X-Client-Cert", EVIL_PEM)],
                          client_cert=kit.CERT_DER)
    kit.ok(guard, request)
    assert [c.client_cert for c in kit.verifiers.calls] == [kit.CERT_DER]


def test_p49_duplicate_trusted_certificate_header_is_ambiguous(kit: Any) -> None:
    guard = _mtls_guard(kit, trusted_proxy_cert_header="x-client-cert")
    # The client sends a copy of a trusted certificate; the proxy appends the real one.
    request = kit.request("GET", "/thing",
                          headers=[("X-Client-Cert", PEM), ("X-Client-Cert", EVIL_PEM)])
    kit.reject(guard, request, (400, 401))
    assert kit.verifiers.count() == 0
