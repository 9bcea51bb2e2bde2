"""Whole-request validation on specs/bench.yaml: schemaguard, openapi-core and the floor.

Used by run.py (second table) and profile_request.py. Each case is one HTTP request, built
once, deterministically, in the form each validator takes:

* schemaguard: ``sg.HttpRequest(method, path, query, headers, body)`` with the *raw* query
  string and header list (schemaguard splits and decodes them inside ``check_request``);
* openapi-core 0.23: ``openapi_core.testing.MockRequest`` with the query already split into a
  dict (``urllib.parse.parse_qsl``) -- openapi-core's adapters build that structure before it
  validates; building it is not timed, which favours openapi-core;
* the floor (POSTs only): ``orjson.loads(body)`` plus one ``jsonschema_rs`` ``is_valid`` on
  the plain draft-4 body schema (plain_schema.py, with the uuid/byte patterns schemaguard
  also checks): the least any validator has to do for the body, with no routing, parameters,
  headers or error reporting;
* the engine's error listing (invalid POSTs only): ``orjson.loads(body)`` plus
  ``list(iter_errors(...))`` of the same jsonschema-rs validator: what the engine itself costs
  to say why a body is refused (a hand-written middleware would do this). It reports every
  branch of the discriminated union's ``anyOf``; schemaguard reports the selected one.

Security: every scheme the spec's operations use gets a trivial verifier for schemaguard, and
every request carries the matching credential for both validators (openapi-core checks that
the credential is present). specs/bench.yaml declares no security, so today neither
validator authenticates anything.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import bodies
import jsonschema_rs
import orjson
import plain_schema
from openapi_core import OpenAPI
from openapi_core.exceptions import OpenAPIError
from openapi_core.testing import MockRequest
from openapi_core.validation.request.exceptions import InvalidParameter, InvalidRequestBody

import schemaguard as sg

HOST = "http://localhost"  # servers: [{url: http://localhost/v1}]
REQUEST_ID = "0b6a1e36-5d7c-4f4b-9a7e-3f2b1c0d9e8a"
GET_QUERY = "limit=25&sort=-created&tags=friendly,indoor,k9&include_archived=true"
GET_QUERY_INVALID = "limit=500&sort=-created&tags=friendly,indoor,k9&include_archived=true"
# (case, valid body key, invalid body key, path, operationId, schema of the body)
POSTS = [
    ("POST /v1/pets (1 KB NewPet)", "new_pet", "/v1/pets", "createPet", "NewPet"),
    ("POST /v1/pets/batch (100 KB PetBatch)", "pet_batch", "/v1/pets/batch", "createPetsBatch",
     "PetBatch"),
]


@dataclass
class Case:
    """One request, valid or invalid, in every validator's form."""

    label: str  # the request, e.g. "GET /v1/pets/{petId}"
    kind: str  # "valid" / "invalid"
    method: str
    path: str
    query: str
    headers: list[tuple[str, str]]
    body: bytes
    operation_id: str
    rejected_in: str  # where an invalid request must be rejected: "query" / "body"
    body_schema: str | None = None  # component schema of the body (POSTs): the floor's
    sg_request: sg.HttpRequest = field(init=False)
    oc_request: MockRequest = field(init=False)

    def __post_init__(self) -> None:
        self.sg_request = sg.HttpRequest(self.method, self.path, self.query, self.headers,
                                         self.body)
        self.oc_request = MockRequest(HOST, self.method, self.path,
                                      args=dict(parse_qsl(self.query, keep_blank_values=True)),
                                      headers=dict(self.headers), data=self.body or None)

    @property
    def key(self) -> str:
        return f"{self.label} {self.kind}"


def _used_schemes(document: Mapping[str, Any]) -> set[str]:
    used: set[str] = set()
    for requirement in document.get("security") or []:
        used.update(requirement)
    for item in (document.get("paths") or {}).values():
        for operation in item.values():
            if isinstance(operation, dict):
                for requirement in operation.get("security") or []:
                    used.update(requirement)
    return used


def credentials(document: Mapping[str, Any]) -> tuple[dict[str, Callable[[Any], Any]],
                                                       list[tuple[str, str]]]:
    """(schemaguard verifiers, credential headers) for every security scheme the spec uses."""
    schemes = (document.get("components") or {}).get("securitySchemes") or {}
    verifiers: dict[str, Callable[[Any], Any]] = {}
    headers: list[tuple[str, str]] = []
    for name in sorted(_used_schemes(document)):
        scheme = schemes[name]
        verifiers[name] = lambda credentials: {"sub": "bench"}  # accepts anything
        kind = scheme.get("type")
        if kind == "apiKey" and scheme.get("in") == "header":
            headers.append((scheme["name"], "bench-key"))
        elif kind == "http" and scheme.get("scheme", "").lower() == "basic":
            token = base64.b64encode(b"bench:bench").decode()
            headers.append(("Authorization", f"Basic {token}"))
        elif kind in ("http", "oauth2", "openIdConnect"):
            headers.append(("Authorization", "Bearer bench-token"))
        else:
            raise ValueError(f"security scheme {name!r} ({kind}) is not supported by the "
                             "benchmark: send its credential by hand")
    return verifiers, headers


def cases(auth_headers: list[tuple[str, str]]) -> list[Case]:
    raw = bodies.all_bodies()
    request_id = [("X-Request-ID", REQUEST_ID)]
    out = [
        Case("GET /v1/pets/{petId} (6 parameters)", kind, "GET", "/v1/pets/42", query,
             [*request_id, *auth_headers], b"", "getPet", "query")
        for kind, query in (("valid", GET_QUERY), ("invalid", GET_QUERY_INVALID))
    ]
    for label, key, path, operation_id, schema in POSTS:
        extra = request_id if path == "/v1/pets" else []
        for kind in ("valid", "invalid"):
            body = raw[f"{key}_{kind}"]
            headers = [("Content-Type", "application/json"),
                       ("Content-Length", str(len(body))), *extra, *auth_headers]
            out.append(Case(label, kind, "POST", path, "", headers, body, operation_id, "body",
                            schema))
    return out


@dataclass
class Validators:
    """The three ways of checking a case, each a one-argument callable returning accept/reject."""

    guard: sg.Guard
    openapi: OpenAPI
    floors: dict[str, Any]  # body schema -> jsonschema_rs validator

    def schemaguard(self, request: sg.HttpRequest) -> bool:
        try:
            self.guard.check_request(request)
        except sg.RequestError:
            return False
        return True

    def openapi_core(self, request: MockRequest) -> bool:
        try:
            self.openapi.validate_request(request)
        except OpenAPIError:
            return False
        return True

    def floor(self, schema: str) -> Callable[[bytes], bool]:
        is_valid = self.floors[schema].is_valid
        loads = orjson.loads

        def floor(body: bytes) -> bool:
            return bool(is_valid(loads(body)))

        return floor

    def engine_errors(self, schema: str) -> Callable[[bytes], int]:
        iter_errors = self.floors[schema].iter_errors
        loads = orjson.loads

        def engine_errors(body: bytes) -> int:
            return len(list(iter_errors(loads(body))))

        return engine_errors

    def timed(self, case: Case) -> dict[str, tuple[Callable[[Any], Any], Any]]:
        """name -> (function, argument) to time for ``case``."""
        fns: dict[str, tuple[Callable[[Any], Any], Any]] = {
            "schemaguard": (self.schemaguard, case.sg_request),
            "openapi-core": (self.openapi_core, case.oc_request),
        }
        if case.body_schema is not None:
            fns["floor"] = (self.floor(case.body_schema), case.body)
            if case.kind == "invalid":
                fns["engine errors"] = (self.engine_errors(case.body_schema), case.body)
        return fns


def build(spec_path: Path, document: dict[str, Any]) -> tuple[Validators, list[Case]]:
    verifiers, auth_headers = credentials(document)
    guard = sg.Guard(spec_path, verifiers=verifiers)
    openapi = OpenAPI.from_file_path(str(spec_path))
    floors = {schema: jsonschema_rs.Draft4Validator(plain_schema.to_draft4(document, schema),
                                                    validate_formats=True)
              for *_, schema in POSTS}
    return Validators(guard, openapi, floors), cases(auth_headers)


def verify(validators: Validators, all_cases: list[Case]) -> None:
    """Assert each validator accepts the valid and rejects the invalid requests, for the
    intended reason (the bad parameter / the body), and leaves the request alone."""
    for case in all_cases:
        # schemaguard: the right operation; the rejection names the intended location.
        refused: sg.RequestError | None = None
        try:
            validated = validators.guard.check_request(case.sg_request)
        except sg.RequestError as exc:
            refused = exc
        if refused is None:
            assert case.kind == "valid", f"schemaguard accepts the INVALID {case.key}"
            assert validated is not None, case.key
            assert validated.operation.operation_id == case.operation_id, (case.key, validated)
        else:
            assert case.kind == "invalid", f"schemaguard rejects the VALID {case.key}: " \
                f"{refused!r} {[v.to_dict() for v in refused.violations][:3]}"
            assert isinstance(refused, sg.RequestValidationError), (case.key, refused)
            where = {v.location for v in refused.violations}
            assert where == {case.rejected_in}, (case.key, where)
        # openapi-core: the intended exception class (and parameter)
        error: OpenAPIError | None = None
        try:
            validators.openapi.validate_request(case.oc_request)
        except OpenAPIError as exc:
            error = exc
        if error is None:
            assert case.kind == "valid", f"openapi-core accepts the INVALID {case.key}"
        else:
            assert case.kind == "invalid", f"openapi-core rejects the VALID {case.key}: {error}"
            expected = InvalidParameter if case.rejected_in == "query" else InvalidRequestBody
            assert isinstance(error, expected), (case.key, type(error), str(error)[:200])
            assert case.rejected_in != "query" or "limit" in str(error), (case.key, str(error))
        # the floor
        if case.body_schema is not None:
            ok = validators.floor(case.body_schema)(case.body)
            assert ok == (case.kind == "valid"), f"the floor gets {case.key} wrong"
            if case.kind == "invalid":
                assert validators.engine_errors(case.body_schema)(case.body) > 0, case.key
        assert case.sg_request.body == case.oc_request.body
