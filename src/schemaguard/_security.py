"""Security: credentials extracted per scheme, requirements evaluated as OR of AND sets.

Evaluation is a generator that yields (verifier, credentials) and receives the verifier's
answer, so the same code serves ``check_request`` (which calls verifiers directly) and
``check_request_async`` (which awaits them). Malformed credentials are refused before any
verifier sees them; a credential sent twice is ambiguous and refused (400) without calling one.
"""

from __future__ import annotations

import base64
import binascii
import re
import sys
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from ._http import HeaderMap, HttpRequest, parse_query
from .errors import Forbidden, InsufficientScope, RequestValidationError, Unauthorized, Violation

REALM = 'realm="api"'
_TOKEN68 = re.compile(r"[A-Za-z0-9\-._~+/]+=*")
_PEM = re.compile(r"-----BEGIN CERTIFICATE-----([A-Za-z0-9+/=\s]+)-----END CERTIFICATE-----")
Verifier = Callable[["Credentials"], Any]


@dataclass(frozen=True, slots=True)
class Credentials:
    """What a verifier receives: the credential of one scheme, and what the operation needs."""

    scheme: str
    type: str
    value: str | None = None
    username: str | None = None
    password: str | None = None
    client_cert: bytes | None = None
    scopes: tuple[str, ...] = ()
    request: HttpRequest | None = field(default=None, repr=False)

    def __repr__(self) -> str:  # never show secrets in logs or tracebacks
        return f"Credentials(scheme={self.scheme!r}, type={self.type!r}, scopes={self.scopes!r})"


@dataclass(frozen=True, slots=True)
class Scheme:
    """A compiled security scheme."""

    name: str
    type: str  # apiKey, http, oauth2, openIdConnect, mutualTLS
    location: str = ""  # apiKey: header, query or cookie
    parameter: str = ""  # apiKey: the header, query or cookie name (headers lower-cased)
    http_scheme: str = ""  # http: lower-cased auth-scheme; oauth2/openIdConnect: "bearer"
    display: str = ""  # apiKey: the name as the spec spells it

    @property
    def challenge(self) -> str:
        if self.type == "apiKey":
            return f'ApiKey {REALM}, in="{self.location}", name="{self.display}"'
        if self.type == "mutualTLS":
            return f"MutualTLS {REALM}"
        name = self.http_scheme.capitalize() if self.http_scheme else "Bearer"
        return f"{name} {REALM}"


def compile_scheme(name: str, definition: Mapping[str, Any]) -> Scheme:
    """A Scheme from a Security Scheme Object; ValueError when it cannot be enforced."""
    kind = definition.get("type")
    if kind == "apiKey":
        location = definition.get("in")
        parameter = definition.get("name")
        if location not in ("header", "query", "cookie") or not isinstance(parameter, str):
            raise ValueError(f"security scheme `{name}`: apiKey needs `in` and `name`")
        return Scheme(name, kind, location,
                      sys.intern(parameter.lower()) if location == "header" else parameter,
                      display=parameter)
    if kind == "http":
        scheme = definition.get("scheme")
        if not isinstance(scheme, str) or not scheme:
            raise ValueError(f"security scheme `{name}`: http needs `scheme`")
        return Scheme(name, kind, http_scheme=scheme.lower())
    if kind in ("oauth2", "openIdConnect"):
        return Scheme(name, kind, http_scheme="bearer")
    if kind == "mutualTLS":
        return Scheme(name, kind)
    raise ValueError(f"security scheme `{name}`: unknown type `{kind}`")


Requirement = tuple[tuple[Scheme, tuple[str, ...]], ...]


@dataclass(frozen=True, slots=True)
class SecurityPlan:
    """An operation's requirements in spec order; ``optional`` when `{}` is among them."""

    requirements: tuple[Requirement, ...]
    optional: bool

    @property
    def open(self) -> bool:
        return not self.requirements

    @property
    def challenges(self) -> list[tuple[str, str]]:
        seen = dict.fromkeys(scheme.challenge for req in self.requirements for scheme, _ in req)
        return [("WWW-Authenticate", challenge) for challenge in seen]


@dataclass(frozen=True, slots=True)
class AuthResult:
    principal: Any
    principals: dict[str, Any]


class _Malformed(Exception):
    pass


class RequestContext:
    """Parsed parts of a request that security and parameters share."""

    __slots__ = ("_raw_query", "content_length", "cookies", "headers", "query", "request",
                 "too_many_fields")

    def __init__(self, request: HttpRequest, headers: HeaderMap,
                 query: dict[str, list[str]], cookies: dict[str, list[str]],
                 too_many_fields: bool = False, content_length: str | None = None) -> None:
        self.request = request
        self.headers = headers
        self.query = query
        self.cookies = cookies
        self.too_many_fields = too_many_fields
        self.content_length = content_length  # the Content-Length header, looked up once
        self._raw_query: dict[str, list[str]] | None = None

    @property
    def raw_query(self) -> dict[str, list[str]]:
        """Query values before percent-decoding (names decoded), parsed on first use."""
        if self._raw_query is None:
            self._raw_query = parse_query(self.request.query, decode_values=False)
        return self._raw_query


def _ambiguous(scheme: Scheme) -> RequestValidationError:
    violation = Violation("security", scheme.name, "", "ambiguous",
                          "credential sent more than once", "")
    return RequestValidationError("ambiguous credentials", (violation,))


def extract(scheme: Scheme, scopes: tuple[str, ...], ctx: RequestContext) -> Credentials | None:
    """The scheme's credential, None when absent; _Malformed or a 400 when unusable."""
    request = ctx.request
    if scheme.type == "apiKey":
        if scheme.location == "header":
            values = ctx.headers.get_all(scheme.parameter)
        else:
            found = ctx.query if scheme.location == "query" else ctx.cookies
            values = found.get(scheme.parameter) or []
        if not values:
            return None
        if len(values) > 1:
            raise _ambiguous(scheme)
        if not values[0]:
            raise _Malformed
        return Credentials(scheme.name, scheme.type, value=values[0], scopes=scopes,
                           request=request)
    if scheme.type == "mutualTLS":
        if not request.client_cert:
            return None
        return Credentials(scheme.name, scheme.type, client_cert=request.client_cert,
                           scopes=scopes, request=request)
    headers = ctx.headers.get_all("authorization")
    if not headers:
        return None
    if len(headers) > 1:
        raise _ambiguous(scheme)
    auth_scheme, _, rest = headers[0].strip().partition(" ")
    if auth_scheme.lower() != scheme.http_scheme:
        return None
    rest = rest.strip(" ")
    if scheme.http_scheme == "basic":
        if not _TOKEN68.fullmatch(rest):
            raise _Malformed
        try:
            decoded = base64.b64decode(rest, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            raise _Malformed from None
        username, colon, password = decoded.partition(":")
        if not colon:
            raise _Malformed
        return Credentials(scheme.name, scheme.type, username=username, password=password,
                           scopes=scopes, request=request)
    if scheme.http_scheme == "bearer" and not _TOKEN68.fullmatch(rest):
        raise _Malformed
    if not rest:
        raise _Malformed
    return Credentials(scheme.name, scheme.type, value=rest, scopes=scopes, request=request)


def certificate_from_header(value: str) -> bytes | None:
    """DER bytes of a PEM certificate a TLS-terminating proxy put in a header (raw or
    URL-escaped, as nginx's ``$ssl_client_escaped_cert``); None when it is not one."""
    text = unquote(value) if "%" in value else value
    match = _PEM.search(text)
    if match is None:
        return None
    try:
        der = base64.b64decode("".join(match.group(1).split()), validate=True)
    except (binascii.Error, ValueError):
        return None
    return der or None


def _granted(principal: Any) -> set[str] | None:
    """Scopes a principal says it has (``scopes``/``scope`` attribute or key), if any."""
    for name in ("scopes", "scope"):
        found = principal.get(name) if isinstance(principal, Mapping) else getattr(
            principal, name, None)
        if found is not None:
            if isinstance(found, str):
                return set(found.split())
            try:
                return {str(s) for s in found}
            except TypeError:
                return None
    return None


def authenticate(
    plan: SecurityPlan, ctx: RequestContext, verifiers: Mapping[str, Verifier]
) -> Generator[tuple[Verifier, Credentials], Any, AuthResult]:
    """Evaluate the plan; yields verifier calls; raises Unauthorized or Forbidden."""
    if plan.open:
        return AuthResult(None, {})
    presented = False  # a credential was sent and refused
    lacking: tuple[str, ...] | None = None  # scopes missing from otherwise valid credentials
    cache: dict[tuple[str, tuple[str, ...]], Any] = {}
    for requirement in plan.requirements:
        principals: dict[str, Any] = {}
        for scheme, scopes in requirement:
            key = (scheme.name, scopes)
            if key in cache:
                principal = cache[key]
            else:
                try:
                    credentials = extract(scheme, scopes, ctx)
                except _Malformed:
                    presented = True
                    principal = None
                else:
                    if credentials is None:
                        principal = None
                    else:
                        try:
                            principal = yield verifiers[scheme.name], credentials
                        except InsufficientScope:
                            lacking = scopes
                            principal = None
                        else:
                            if not principal:
                                presented = True
                            elif scopes and (granted := _granted(principal)) is not None \
                                    and not set(scopes) <= granted:
                                lacking, principal = scopes, None
                cache[key] = principal
            if not principal:
                break
            principals[scheme.name] = principal
        else:
            first = requirement[0][0].name
            return AuthResult(principals[first], principals)
    if lacking is not None and not presented:
        scope = " ".join(lacking)
        violation = Violation("security", None, "", "scopes",
                              "credentials lack a required scope", "")
        raise Forbidden("the credentials lack a required scope", (violation,), [
            ("WWW-Authenticate",
             f'Bearer {REALM}, error="insufficient_scope", scope="{scope}"')])
    if plan.optional and not presented and lacking is None:
        return AuthResult(None, {})
    if presented:
        detail, keyword = "the credentials were not accepted", "invalid"
    else:
        detail, keyword = "credentials are required", "required"
    violation = Violation("security", None, "", keyword, detail, "")
    raise Unauthorized(detail, (violation,), plan.challenges)
