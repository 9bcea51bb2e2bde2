"""A spec assembled into what a guard checks: per operation, an OperationPlan (parameters,
body, security, settings) and a ResponsePlan, all routed by one trie of the spec's paths.

Everything here runs once, at construction; a spec or an option the guard cannot honour is
refused now (a scheme without a verifier, an override naming no operation), never at the
first request.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ._operation import (
    Operation,
    OperationPlan,
    Settings,
    build_body,
    build_parameters,
    build_security,
)
from ._response import ResponsePlan
from ._router import Router, base_paths
from ._security import Scheme, Verifier, compile_scheme
from ._source import join_pointer
from ._spec import Spec
from ._walk import METHODS

MODES = ("enforce", "report", "off")
RESPONSE_MODES = ("off", "report", "enforce")
OPERATION_OPTIONS = frozenset({"mode", "validate_responses", "max_body_bytes", "max_fields",
                               "max_errors", "body_timeout", "verifier_timeout"})


def choice(name: str, value: Any, allowed: Iterable[Any]) -> Any:
    allowed = tuple(allowed)
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, allowed))}, not {value!r}")
    return value


def positive(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive integer, not {value!r}")
    return value


def seconds(name: str, value: Any) -> float:
    """A duration option: a positive, finite number of seconds."""
    return _positive_number(name, value, "of seconds")


def rate(name: str, value: Any) -> float:
    """A rate option: a positive, finite number per second."""
    return _positive_number(name, value, "per second")


def _positive_number(name: str, value: Any, unit: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or \
            not math.isfinite(value) or value <= 0:  # a bool is not a number
        raise ValueError(f"{name} must be a positive number {unit}, not {value!r}")
    return float(value)


@dataclass(slots=True)
class Assembly:
    router: Router[OperationPlan]
    operations: list[Operation] = field(default_factory=list)
    plans: dict[Operation, OperationPlan] = field(default_factory=dict)
    responses: dict[Operation, ResponsePlan] = field(default_factory=dict)


def assemble(spec: Spec, verifiers: Mapping[str, Verifier],
             formats: dict[str, Callable[[str], bool]], decode_json: Callable[[bytes], Any],
             defaults: Mapping[str, Any], overrides: Mapping[str, Mapping[str, Any]]
             ) -> Assembly:
    """Every operation of ``spec`` with its settings (``defaults``, then the ``overrides`` of
    its operationId or "METHOD /path")."""
    content = spec.content
    schemes = security_schemes(spec)
    root_security = content.get("security", [])
    assembly = Assembly(Router(base_paths(content.get("servers"))))
    matched: set[str] = set()
    used: dict[str, str] = {}
    for template, raw_item in (content.get("paths") or {}).items():
        uri, pointer, item = spec.uri, join_pointer("/paths", template), raw_item
        if isinstance(item, dict) and "$ref" in item:
            uri, pointer, item = spec.resolve(item["$ref"], uri, join_pointer(pointer, "$ref"))
        route = assembly.router.add(template)
        for method in METHODS:
            if method not in item:
                continue
            op_pointer = join_pointer(pointer, method)
            op = item[method]
            operation = Operation(op.get("operationId"), method.upper(), template, op_pointer)
            parameters = build_parameters(spec, uri, pointer, item, op_pointer, op, template,
                                          decode_json)
            body = build_body(spec, uri, join_pointer(op_pointer, "requestBody"),
                              op.get("requestBody"))
            security_at = (join_pointer(op_pointer, "security") if "security" in op
                           else "/security")
            security = build_security(spec, op.get("security", root_security), schemes,
                                      uri if "security" in op else spec.uri, security_at)
            for requirement in security.requirements:
                for scheme, _ in requirement:
                    used.setdefault(scheme.name, f"{method.upper()} {template}")
            plan = OperationPlan(
                spec, operation, body[1] if body else uri, parameters,
                body[0] if body else None, security,
                settings_for(operation, defaults, overrides, matched), formats,
            )
            route.operations[method.upper()] = plan
            assembly.operations.append(operation)
            assembly.plans[operation] = plan
            assembly.responses[operation] = ResponsePlan(
                spec, uri, join_pointer(op_pointer, "responses"), op.get("responses"),
                formats, decode_json)
    for name, where in used.items():
        if name not in verifiers:
            raise ValueError(f"security scheme `{name}` (used by {where}) has no verifier: "
                             "pass verifiers={...} (fail closed)")
        if not callable(verifiers[name]):
            raise ValueError(f"the verifier for `{name}` is not callable")
    unused = set(overrides) - matched
    if unused:
        raise ValueError(f"operations: no operation `{sorted(unused)[0]}` in the spec")
    return assembly


def security_schemes(spec: Spec) -> dict[str, Scheme]:
    found: dict[str, Scheme] = {}
    raw = (spec.content.get("components") or {}).get("securitySchemes") or {}
    for name, definition in raw.items():
        pointer = join_pointer("/components/securitySchemes", name)
        uri, at, resolved = spec.uri, pointer, definition
        if isinstance(definition, dict) and "$ref" in definition:
            uri, at, resolved = spec.resolve(definition["$ref"], uri,
                                             join_pointer(pointer, "$ref"))
        if not isinstance(resolved, dict):
            raise spec.error(uri, at, "expected a security scheme object")
        try:
            found[name] = compile_scheme(name, resolved)
        except ValueError as exc:
            raise spec.error(uri, at, str(exc)) from None
    return found


def settings_for(operation: Operation, defaults: Mapping[str, Any],
                 overrides: Mapping[str, Mapping[str, Any]], matched: set[str]) -> Settings:
    values = dict(defaults)
    for key in (operation.operation_id, f"{operation.method} {operation.path_template}"):
        if key is None or key not in overrides:
            continue
        matched.add(key)
        override = overrides[key]
        unknown = set(override) - OPERATION_OPTIONS
        if unknown:
            raise ValueError(f"operations[{key!r}]: unknown option `{sorted(unknown)[0]}`")
        values.update(override)
    choice("mode", values["mode"], MODES)
    choice("validate_responses", values["validate_responses"], RESPONSE_MODES)
    for name in ("max_body_bytes", "max_fields", "max_errors"):
        positive(name, values[name])
    values["body_timeout"] = seconds("body_timeout", values["body_timeout"])
    if values["verifier_timeout"] is not None:
        values["verifier_timeout"] = seconds("verifier_timeout", values["verifier_timeout"])
    return Settings(**values)
