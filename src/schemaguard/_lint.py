"""`schemaguard check`: structural validation and lint rules over one spec, as data.

``check_spec_file`` returns ``Finding`` records (rule id, severity, message, file:line:column,
pointer); the CLI only prints them. The structural check runs the official OpenAPI 3.0/3.1
JSON Schemas (shipped in ``schemas/``, Apache-2.0, from the OpenAPI Initiative) through
schemaguard's own compiler; the semantic rules are the mistakes a JSON Schema cannot see.
Checking never runs code, never touches the network and reads no file outside the spec's
folder: it is ``load_spec`` underneath.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, Literal

from ._formats import KNOWN_FORMATS
from ._http import parse_media_type
from ._keywords import subschemas
from ._limits import extension_problem
from ._operation import _parameter as compile_parameter
from ._regex import needs_backtracking
from ._schema import SchemaValidator, compile_at, compile_schema
from ._source import Document, join_pointer, parse, split_pointer
from ._spec import MAPPING_URI, Spec, load_spec
from ._walk import METHODS, check_spec
from ._yaml import YamlNotes
from .errors import SpecError

Severity = Literal["error", "warning", "info"]
SEVERITIES: tuple[Severity, ...] = ("error", "warning", "info")

# Rule id -> (severity, one-line summary). Ids are stable: baselines and --ignore use them.
RULES: dict[str, tuple[Severity, str]] = {
    "SG001": ("error", "the spec cannot be loaded (syntax, references, schemas, regexes)"),
    "SG002": ("error", "the document breaks the official OpenAPI schema"),
    "SG010": ("error", "path template variables and path parameters disagree"),
    "SG011": ("error", "duplicate operationId"),
    "SG012": ("error", "equivalent path templates"),
    "SG013": ("info", "a concrete path shadows a templated one (the concrete one wins)"),
    "SG014": ("error", "security requirement names an undefined scheme"),
    "SG020": ("warning", "example does not validate against its schema"),
    "SG021": ("warning", "default does not validate against its schema"),
    "SG022": ("warning", "unknown format (not asserted)"),
    "SG023": ("warning", "$ref siblings are ignored in OpenAPI 3.0"),
    "SG024": ("warning", "pattern needs backtracking (lookaround or backreference)"),
    "SG025": ("warning", "pattern has a nested quantifier (catastrophic backtracking)"),
    "SG026": ("warning", "YAML 1.1 reads this plain scalar as a boolean"),
    "SG027": ("warning", "unquoted response code: YAML 1.1 tools read it as an integer"),
    "SG028": ("warning", "nullable has no effect here"),
    "SG029": ("error", "property is both readOnly and writeOnly (it can be sent in neither "
                       "direction)"),
    "SG030": ("warning", "request body not structurally validated (no schema, or a media type "
                         "read as a string)"),
    "SG031": ("warning", "pattern means something else to Python's `re`"),
    "SG032": ("error", "parameter serialization the runtime cannot validate"),
    "SG033": ("warning", "operation without responses, or path without operations"),
    "SG034": ("info", "readOnly property listed in `required` (required in responses only)"),
    "SG035": ("warning", "several parameters share a path segment and a value may contain "
                         "the separator (the split is ambiguous)"),
    "SG036": ("error", "x-rate-limit the guard cannot use (it refuses to start)"),
    "SG037": ("warning", "x-sensitive must be true or false"),
    "SG038": ("info", "several parameters share a path segment (split left to right at the "
                      "first separator after each)"),
    "SG101": ("warning", "operation without security"),
    "SG102": ("warning", "API key sent in the query string"),
    "SG103": ("warning", "credentials over a plain http server, or an OpenID Connect "
                         "discovery URL over http"),
    "SG104": ("warning", "request object allows undeclared properties (mass assignment)"),
    "SG105": ("warning", "unbounded string, array or property name in a request (resource "
                         "consumption)"),
    "SG106": ("warning", "secured operation does not declare 401/403"),
    "SG107": ("warning", "write operation opened with `security: []`"),
}

# Formats whose strings are short by construction, and formats that only constrain numbers.
_BOUNDED_FORMATS = frozenset({"date", "date-time", "time", "uuid", "email", "ipv4", "ipv6"})
_NUMBER_FORMATS = frozenset({"int32", "int64", "float", "double"})
_PYTHON_DIFFERS = re.compile(r"(?<!\\)(?:\\\\)*\\[dwsbDWSB]")
_NESTED_QUANTIFIER = re.compile(r"\((?:[^()\\]|\\.)*[+*](?:[^()\\]|\\.)*\)[+*{]")
_WRITE_METHODS = frozenset({"post", "put", "patch", "delete"})
# Request bodies the guard parses before validating (JSON is told by MediaType.is_json); any
# other media type reaches the schema as one string. Ranges: what they parse when the client's
# Content-Type is one of those.
_PARSED = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})
_PARSED_IN_RANGE = {"*/*": "JSON, form or multipart/form-data", "application/*": "JSON or form",
                    "multipart/*": "multipart/form-data"}
_STRUCTURE = frozenset({
    "properties", "additionalProperties", "patternProperties", "propertyNames", "required",
    "minProperties", "maxProperties", "dependentRequired", "unevaluatedProperties",
    "discriminator", "items", "prefixItems", "contains", "minItems", "maxItems", "uniqueItems",
    "unevaluatedItems"})


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem found in a spec."""

    rule: str
    severity: Severity
    message: str
    file: str | None
    line: int | None
    column: int | None
    pointer: str

    def to_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "severity": self.severity, "message": self.message,
                "file": self.file, "line": self.line, "column": self.column,
                "pointer": self.pointer}

    @property
    def fingerprint(self) -> str:
        """What a baseline remembers: stable across edits that move lines, and across the
        spellings of one path (`openapi.yaml`, `./openapi.yaml`, absolute)."""
        file = self.file
        if file and not file.startswith("<"):
            file = os.path.relpath(os.path.abspath(file)).replace(os.sep, "/")
        return f"{self.rule}|{file}|{self.pointer}|{self.message}"


class Unreadable(Exception):
    """Input that cannot be read, decoded or is not a mapping (exit code 2)."""


@cache
def _official(version: str) -> SchemaValidator:
    name = "oas-3.0.json" if version == "3.0" else "oas-3.1.json"
    text = resources.files("schemaguard").joinpath("schemas").joinpath(name).read_text("utf-8")
    return compile_schema(json.loads(text), dialect="draft4" if version == "3.0"
                          else "draft2020-12")


class _Checker:
    def __init__(self, spec: Spec) -> None:
        self.spec = spec
        self.findings: list[Finding] = []
        self._linted: set[tuple[str, str]] = set()  # request schemas already linted
        self._schemas: list[tuple[str, str, Any]] | None = None  # _all_schemas, once walked

    def add(self, rule: str, message: str, pointer: str, uri: str | None = None) -> None:
        document = self.spec.document(uri or self.spec.uri)
        line, column = document.locate(pointer)
        self.findings.append(Finding(rule, RULES[rule][0], message, document.file, line,
                                     column, pointer))

    # -- rules -----------------------------------------------------------------------------

    def run(self) -> list[Finding]:
        self.structure()
        self.paths()
        self.rate_limits()
        self.security_schemes()
        self.schemas()
        self.examples()
        self.yaml_surprises()
        return self.findings

    def structure(self) -> None:
        version = "3.0" if self.spec.dialect == "oas30" else "3.1"
        for violation in _official(version).iter_violations(self.spec.content):
            self.add("SG002", f"{violation.message} at `{violation.pointer or '/'}`",
                     violation.pointer)
            if len(self.findings) > 200:
                break

    def paths(self) -> None:
        content = self.spec.content
        seen_ids: dict[str, str] = {}
        shapes: dict[str, str] = {}
        paths = content.get("paths")
        templates = list(paths.items()) if isinstance(paths, dict) else []
        for template, item in templates:
            at = join_pointer("/paths", template)
            if not isinstance(item, dict):
                continue
            shape = re.sub(r"\{[^}/]+\}", "{}", template)
            if shape in shapes and "{" in template:
                self.add("SG012", f"`{template}` is equivalent to `{shapes[shape]}`", at)
            shapes.setdefault(shape, template)
            if not any(isinstance(item.get(m), dict) for m in METHODS) and "$ref" not in item:
                self.add("SG033", f"`{template}` declares no operation", at)
            for method in METHODS:
                op = item.get(method)
                if not isinstance(op, dict):
                    continue
                op_at = join_pointer(at, method)
                if not op.get("responses") and self.spec.dialect == "oas31":  # 3.0: SG002
                    self.add("SG033", f"{method.upper()} {template} declares no responses", op_at)
                op_id = op.get("operationId")
                if isinstance(op_id, str):
                    if op_id in seen_ids:
                        self.add("SG011", f"operationId `{op_id}` is also used by "
                                          f"{seen_ids[op_id]}", join_pointer(op_at, "operationId"))
                    seen_ids.setdefault(op_id, f"{method.upper()} {template}")
                self.path_parameters(template, at, item, op_at, op)
                self.operation_security(template, method, op_at, op)
                self.request_body(op_at, op)
        self.shadowing([t for t, _ in templates])

    def shadowing(self, templates: list[str]) -> None:
        split = [(t, t.strip("/").split("/")) for t in templates]
        for concrete, parts in split:
            if "{" in concrete:
                continue
            for templated, other in split:
                if "{" not in templated or len(other) != len(parts):
                    continue
                if all(a == b or ("{" in b and "}" in b) for a, b in zip(parts, other,
                                                                        strict=True)):
                    self.add("SG013", f"`{concrete}` shadows `{templated}` for that value",
                             join_pointer("/paths", concrete))

    def path_parameters(self, template: str, at: str, item: dict[str, Any], op_at: str,
                        op: dict[str, Any]) -> None:
        declared: dict[str, Any] = {}
        for holder_at, holder in ((at, item), (op_at, op)):
            params = holder.get("parameters")
            for i, raw in enumerate(params if isinstance(params, list) else []):
                uri, pointer, param = self._resolve(raw, join_pointer(holder_at, "parameters",
                                                                      i))
                if isinstance(param, dict) and param.get("in") == "path":
                    declared[str(param.get("name"))] = (uri, pointer, param)
                self.serialization(uri, pointer, param)
                self.parameter_schemas(uri, pointer, param)
        variables = set(re.findall(r"\{([^}/]+)\}", template))
        self.shared_segments(template, op_at, declared)
        for name in sorted(variables - set(declared)):
            self.add("SG010", f"`{{{name}}}` in `{template}` has no path parameter", op_at)
        for name, (uri, pointer, param) in sorted(declared.items(), key=lambda kv: str(kv[0])):
            if name not in variables:
                self.add("SG010", f"path parameter `{name}` is not in `{template}`", pointer,
                         uri)
            elif param.get("required") is not True:
                self.add("SG010", f"path parameter `{name}` must have `required: true`",
                         pointer, uri)

    def shared_segments(self, template: str, op_at: str, declared: dict[str, Any]) -> None:
        """bad-inputs S25: `{from}-{to}` splits at the first `-`; a date value has dashes (a
        warning). A segment that splits cleanly still gets a note naming the split rule."""
        for segment in template.split("/"):
            names = re.findall(r"\{([^}/]+)\}", segment)
            if len(names) < 2:
                continue
            separators = [s for s in re.split(r"\{[^}/]+\}", segment)[1:-1] if s]
            ambiguous = False
            for name in names[:-1]:  # the last parameter takes the rest of the segment
                found = declared.get(name)
                schema = found[2].get("schema") if found else None
                if _may_contain(schema, separators):
                    ambiguous = True
                    self.add("SG035", f"`{{{name}}}` in `{segment}` may contain "
                                      f"`{separators[0]}`: the segment splits at its first "
                                      "occurrence", op_at)
            if not ambiguous and separators:
                unique = list(dict.fromkeys(separators))
                ends = (f"the first `{unique[0]}` after it" if len(unique) == 1 else
                        "the first occurrence of the separator after it in the template")
                self.add("SG038", f"`{segment}` holds {len(names)} parameters: each but the "
                                  f"last ends at {ends}", op_at)

    def serialization(self, uri: str, pointer: str, param: Any) -> None:
        """What the guard refuses to compile (bad-inputs S27), as a finding, not a crash."""
        if not isinstance(param, dict):
            return
        if param.get("in") == "path" and param.get("required") is not True:
            param = {**param, "required": True}  # SG010 reports it; the rest is checked here
        try:
            compile_parameter(self.spec, uri, pointer, param, _no_json)
        except SpecError as exc:
            self.add("SG032", exc.message, exc.pointer or pointer, uri)

    def parameter_schemas(self, uri: str, pointer: str, param: Any) -> None:
        """SG104/SG105 over a parameter's schema, or its `content` media type's: parameters
        are request input like bodies (OWASP API4), path ones included. Linted once, where
        the parameter is defined (a component, a path item), however many operations use it."""
        if not isinstance(param, dict):
            return
        places = [(join_pointer(pointer, "schema"), param["schema"])] if "schema" in param \
            else []
        content = param.get("content")
        for media_type, media in (content.items() if isinstance(content, dict) else ()):
            if isinstance(media, dict) and "schema" in media:
                places.append((join_pointer(pointer, "content", media_type, "schema"),
                               media["schema"]))
        for at, schema in places:
            self.request_schema(uri, at, schema, self._linted)

    def operation_security(self, template: str, method: str, op_at: str,
                           op: dict[str, Any]) -> None:
        content = self.spec.content
        components = content.get("components")
        schemes = components.get("securitySchemes") if isinstance(components, dict) else None
        schemes = schemes if isinstance(schemes, dict) else {}
        requirements = op.get("security", content.get("security"))
        where = join_pointer(op_at, "security") if "security" in op else "/security"
        if not requirements:
            if "security" not in op:
                self.add("SG101", f"{method.upper()} {template} has no security", op_at)
            elif method in _WRITE_METHODS:  # an explicit `security: []` on a read is a choice
                self.add("SG107", f"{method.upper()} {template} is open to anyone "
                                  "(`security: []`)", where)
            return
        for i, requirement in enumerate(requirements if isinstance(requirements, list) else []):
            for name in requirement if isinstance(requirement, dict) else {}:
                if name not in schemes:
                    self.add("SG014", f"security scheme `{name}` is not defined",
                             join_pointer(where, i, name))
        responses = op.get("responses") or {}
        if isinstance(responses, dict) and not ({"401", "403", "4XX", "default"} &
                                                set(map(str, responses))):
            self.add("SG106", f"{method.upper()} {template} is secured but declares no 401 or "
                              "403 response", join_pointer(op_at, "responses"))

    def request_body(self, op_at: str, op: dict[str, Any]) -> None:
        at = join_pointer(op_at, "requestBody")
        uri, pointer, body = self._resolve(op.get("requestBody"), at)
        if not isinstance(body, dict):
            return
        for media_type, media in (body.get("content") or {}).items():
            media_at = join_pointer(pointer, "content", media_type)
            if not isinstance(media, dict) or "schema" not in media:
                self.add("SG030", f"`{media_type}` has no schema: bodies are not validated",
                         media_at, uri)
                continue
            self.unparsed_body(uri, media_at, media_type, media["schema"])
            self.request_schema(uri, join_pointer(media_at, "schema"), media["schema"],
                                self._linted)

    def unparsed_body(self, uri: str, media_at: str, media_type: str, schema: Any) -> None:
        """bad-inputs S28: the guard parses JSON, form and multipart/form-data bodies; a body
        of any other media type is validated as one string (text in its charset, else one
        character per byte), so only string keywords reach it, never a structure."""
        declared = parse_media_type(media_type)
        if declared is None or declared.is_json or declared.essence in _PARSED:
            return
        types, structured = self._structure(uri, join_pointer(media_at, "schema"), schema)
        parsed = _PARSED_IN_RANGE.get(declared.essence)
        if parsed is not None:  # a range: the client's Content-Type decides
            if not structured and "string" not in types and types:
                return  # a number or boolean: nothing structural was meant
            rest = "fails `type` there" if types and "string" not in types else \
                "gets only `maxLength`/`pattern` there"
            self.add("SG030", f"`{media_type}` bodies are structurally validated only as "
                              f"{parsed}; any other media type is read as a string and {rest}",
                     media_at, uri)
        elif structured:
            rest = (f"this `{'`/`'.join(sorted(types))}` schema rejects every body" if types
                    and "string" not in types else "its object and array keywords never apply")
            self.add("SG030", f"`{media_type}` bodies are read as a string, not parsed, so they "
                              f"are not structurally validated: {rest}", media_at, uri)
        elif declared.type != "text" and (not types or "string" in types):
            self.add("SG030", f"`{media_type}` bodies are validated as a string of bytes "
                              "(`maxLength`, `pattern`): their content is not structurally "
                              "validated", media_at, uri)

    def _structure(self, uri: str, pointer: str, schema: Any) -> tuple[set[str], bool]:
        """(the types a body schema names, whether it describes an object or array), looking
        one level into the allOf/anyOf/oneOf of an untyped schema (`allOf: [$ref: Pet]`)."""
        uri, pointer, schema = self._resolve(schema, pointer, uri)
        types, structured = _types(schema)
        if isinstance(schema, dict) and not types and not structured:
            for key in ("allOf", "anyOf", "oneOf"):
                members = schema.get(key)
                for i, member in enumerate(members if isinstance(members, list) else []):
                    found = _types(self._resolve(member, join_pointer(pointer, key, i), uri)[2])
                    types |= found[0]
                    structured = structured or found[1]
        return types, structured

    def request_schema(self, uri: str, pointer: str, schema: Any, seen: set[tuple[str, str]],
                       depth: int = 0, composed: bool = False, in_place: bool = False) -> None:
        """Resource and mass-assignment lints over a request schema (refs followed once).
        ``composed``: an allOf member, whose object is closed (or not) by its parent;
        ``in_place``: an applicator's member (allOf, not, if...), whose instance its parent
        schema bounds too."""
        if (uri, pointer) in seen or depth > 32:
            return
        seen.add((uri, pointer))
        target = self._resolve(schema, pointer, uri)
        if target[:2] != (uri, pointer):  # a $ref: lint its target once, however reached
            if target[:2] in seen:
                return
            seen.add(target[:2])
        uri, pointer, schema = target
        if not isinstance(schema, dict):
            return
        types, _ = _types(schema)
        if "object" in types and "properties" in schema and not composed and \
                "additionalProperties" not in schema and "unevaluatedProperties" not in schema:
            self.add("SG104", "object does not set `additionalProperties` (undeclared fields "
                              "pass)", pointer, uri)
        fmt = schema.get("format")
        unbounded = "maxLength" not in schema and "enum" not in schema and \
            "const" not in schema and not (isinstance(fmt, str) and fmt in _BOUNDED_FORMATS)
        if "string" in types and unbounded:
            self.add("SG105", "string without `maxLength`", pointer, uri)
        elif "type" not in schema and unbounded and not in_place:
            # No `type`: every string passes; `pattern` and `format` say strings were meant.
            keyword = "pattern" if "pattern" in schema else "format"
            if keyword == "pattern" or (isinstance(fmt, str) and fmt not in _NUMBER_FORMATS):
                self.add("SG105", f"string without `maxLength` (no `type`: `{keyword}` admits "
                                  "strings of any length)", pointer, uri)
        if "array" in types and "maxItems" not in schema:
            self.add("SG105", "array without `maxItems`", pointer, uri)
        if isinstance(schema.get("patternProperties"), dict) and schema["patternProperties"] \
                and "propertyNames" not in schema and self.spec.dialect == "oas31":
            self.add("SG105", "`patternProperties` without `propertyNames`: property names of "
                              "any length", pointer, uri)  # 3.0 has neither keyword (SG002)
        for path, child, place in subschemas(schema):
            self.request_schema(uri, join_pointer(pointer, *path), child, seen, depth + 1,
                                composed=path[0] in ("allOf", "anyOf", "oneOf"), in_place=place)

    def security_schemes(self) -> None:
        content = self.spec.content
        components = content.get("components")
        schemes = components.get("securitySchemes") if isinstance(components, dict) else None
        schemes = schemes if isinstance(schemes, dict) else {}
        raw_servers = content.get("servers")
        servers = [s.get("url", "") for s in raw_servers if isinstance(s, dict)] \
            if isinstance(raw_servers, list) else []
        plain_http = any(_plain_http(url) for url in servers)
        for name, scheme in schemes.items():
            at = join_pointer("/components/securitySchemes", name)
            if not isinstance(scheme, dict):
                continue
            if scheme.get("type") == "apiKey" and scheme.get("in") == "query":
                self.add("SG102", f"`{name}` sends the key in the query string (logged by "
                                  "proxies and servers)", at)
            if plain_http and scheme.get("type") in ("http", "apiKey", "oauth2"):
                self.add("SG103", f"`{name}` credentials would cross a plain http server", at)
            if scheme.get("type") == "openIdConnect" and \
                    _plain_http(scheme.get("openIdConnectUrl")):
                # The discovery document names the token endpoint and the signing keys: over
                # http anyone on the path can swap them.
                self.add("SG103", f"`{name}` reads its OpenID Connect discovery document over "
                                  "plain http (it names where credentials go)",
                         join_pointer(at, "openIdConnectUrl"))

    def rate_limits(self) -> None:
        """`x-rate-limit` on the root and on operations (schemaguard's extension)."""
        content = self.spec.content
        places = [("/x-rate-limit", content.get("x-rate-limit"))]
        paths = content.get("paths")
        for template, item in (paths.items() if isinstance(paths, dict) else []):
            for method in METHODS:
                op = item.get(method) if isinstance(item, dict) else None
                if isinstance(op, dict) and "x-rate-limit" in op:
                    places.append((join_pointer("/paths", template, method, "x-rate-limit"),
                                   op["x-rate-limit"]))
        for pointer, raw in places:
            if raw is None:
                continue
            problem = extension_problem(raw)
            if problem is not None:
                self.add("SG036", f"x-rate-limit: {problem}", pointer)

    def schemas(self) -> None:
        for uri, pointer, schema in self._all_schemas():
            if not isinstance(schema, dict):
                continue
            if "x-sensitive" in schema and not isinstance(schema["x-sensitive"], bool):
                self.add("SG037", "`x-sensitive` must be true or false (scan_responses reads "
                                  "only `true`)", join_pointer(pointer, "x-sensitive"), uri)
            if self.spec.dialect == "oas30" and "$ref" in schema and len(schema) > 1:
                extra = sorted(k for k in schema if k != "$ref" and not k.startswith("x-"))
                if extra:
                    self.add("SG023", f"`{', '.join(extra)}` beside `$ref` is ignored in 3.0",
                             pointer, uri)
            fmt = schema.get("format")
            if isinstance(fmt, str) and fmt not in KNOWN_FORMATS[self.spec.dialect]:
                self.add("SG022", f"format `{fmt}` is not known: it is not checked",
                         join_pointer(pointer, "format"), uri)
            pattern = schema.get("pattern")
            if isinstance(pattern, str) and _PYTHON_DIFFERS.search(pattern):
                self.add("SG031", "`\\d`, `\\w`, `\\s` or `\\b` match non-ASCII text under "
                                  "Python's `re` (ECMA-262 is ASCII): re-checks in Python "
                                  "disagree",
                         join_pointer(pointer, "pattern"), uri)
            if isinstance(pattern, str):
                if needs_backtracking(pattern):
                    self.add("SG024", "pattern runs on the backtracking engine under a budget "
                                      "(matches that exhaust it fail)",
                             join_pointer(pointer, "pattern"), uri)
                if _NESTED_QUANTIFIER.search(pattern):
                    self.add("SG025", "nested quantifier: exponential on the backtracking "
                                      "engines other tools use", join_pointer(pointer, "pattern"),
                             uri)
            if "nullable" in schema and (self.spec.dialect == "oas31" or "type" not in schema):
                why = ("3.1 has no `nullable` (use a type array)" if self.spec.dialect == "oas31"
                       else "`nullable` only widens a `type` given beside it")
                self.add("SG028", why, join_pointer(pointer, "nullable"), uri)
            properties = schema.get("properties")
            required = schema.get("required")
            for name, sub in (properties if isinstance(properties, dict) else {}).items():
                if isinstance(sub, dict) and sub.get("readOnly") is True and \
                        sub.get("writeOnly") is True:
                    self.add("SG029", f"`{name}` is readOnly and writeOnly",
                             join_pointer(pointer, "properties", name), uri)
                elif isinstance(sub, dict) and sub.get("readOnly") is True and \
                        isinstance(required, list) and name in required:
                    self.add("SG034", f"`{name}` is readOnly and required: requests need not "
                                      "send it", join_pointer(pointer, "required"), uri)

    def examples(self) -> None:
        index = self.spec.index
        for example in index.examples:
            validator = compile_at(self.spec, example.schema_pointer, context=example.context,
                                   uri=example.schema_uri)
            value = _value_at(self.spec.document(example.uri).content, example.pointer)
            first = next(iter(validator.iter_violations(value)), None)
            if first is not None:
                self.add("SG020", f"{first.message} at `{first.pointer or '/'}`",
                         example.pointer, example.uri)
        for uri, pointer, schema in self._all_schemas():
            if isinstance(schema, dict) and "default" in schema and "$ref" not in schema:
                validator = compile_at(self.spec, pointer, context=None, uri=uri)
                first = next(iter(validator.iter_violations(schema["default"])), None)
                if first is not None:
                    self.add("SG021", f"{first.message} at `{first.pointer or '/'}`",
                             join_pointer(pointer, "default"), uri)

    def yaml_surprises(self) -> None:
        """Plain scalars YAML 1.1 reads as booleans, and unquoted response codes, as the
        loader noted them (no second parse)."""
        document = self.spec.root
        notes = document.notes
        if not notes.yaml11 and not notes.int_keys:
            return
        where = _pointers(document.content)
        for container, key in notes.yaml11:
            if container in where:
                pointer = join_pointer(where[container], key)
                self.add("SG026", "a string here but a boolean to YAML 1.1 tools: quote it",
                         pointer)
        for pointer, value in _responses(document.content):
            for key in notes.int_keys.get(id(value), ()):
                self.add("SG027", f"quote the response code: '{key}'",
                         join_pointer(pointer, key))

    # -- helpers ---------------------------------------------------------------------------

    def _resolve(self, node: Any, pointer: str, uri: str | None = None) -> tuple[str, str, Any]:
        uri = uri or self.spec.uri
        for _ in range(32):
            if not (isinstance(node, dict) and isinstance(node.get("$ref"), str)):
                break
            uri, pointer, node = self.spec.resolve(node["$ref"], uri,
                                                   join_pointer(pointer, "$ref"))
        return uri, pointer, node

    def _all_schemas(self) -> list[tuple[str, str, Any]]:
        """(uri, pointer, schema) of every schema the spec uses or declares, each once;
        walked once for the rules that read them all."""
        if self._schemas is not None:
            return self._schemas
        found: list[tuple[str, str, Any]] = []
        seen: set[tuple[str, str]] = set()
        spec = self.spec
        # (uri, pointer, the schema there or _UNREAD): a child is carried with its pointer.
        roots: list[tuple[str, str, Any]] = [(u.uri, u.pointer, _UNREAD)
                                              for u in spec.index.uses]
        components = spec.content.get("components")
        schemas = components.get("schemas") if isinstance(components, dict) else None
        if isinstance(schemas, dict):
            roots += [(spec.uri, join_pointer("/components/schemas", name), schema)
                      for name, schema in schemas.items()]
        stack = list(reversed(roots))
        while stack:
            uri, pointer, schema = stack.pop()
            if (uri, pointer) in seen:
                continue
            seen.add((uri, pointer))
            if schema is _UNREAD:
                schema = _value_at(spec.document(uri).content, pointer)
            found.append((uri, pointer, schema))
            if isinstance(schema, dict):
                stack.extend((uri, join_pointer(pointer, *path), value)
                             for path, value, _ in subschemas(schema))
                if isinstance(schema.get("$ref"), str):  # into other files too
                    stack.append(spec.resolve(schema["$ref"], uri,
                                              join_pointer(pointer, "$ref")))
        self._schemas = found
        return found


_UNREAD: Any = object()  # a schema whose value is read from its pointer when it is reached


def _pointers(document: Any) -> dict[int, str]:
    """id(container) -> its JSON pointer, for every container of a document."""
    found: dict[int, str] = {}
    stack: list[tuple[Any, str]] = [(document, "")]
    while stack:
        node, pointer = stack.pop()
        if isinstance(node, dict):
            found[id(node)] = pointer
            stack.extend((v, join_pointer(pointer, k)) for k, v in node.items()
                         if isinstance(v, (dict, list)))
        elif isinstance(node, list):
            found[id(node)] = pointer
            stack.extend((v, join_pointer(pointer, i)) for i, v in enumerate(node)
                         if isinstance(v, (dict, list)))
    return found


def _responses(document: Any) -> Iterator[tuple[str, Any]]:
    """(pointer, mapping) of every operation's `responses` and of components.responses."""
    for template, item in (document.get("paths") or {}).items():
        if not isinstance(item, dict):
            continue
        for method in METHODS:
            op = item.get(method)
            if isinstance(op, dict) and isinstance(op.get("responses"), dict):
                yield join_pointer("/paths", template, method, "responses"), op["responses"]


def _plain_http(url: Any) -> bool:
    """An http:// URL to a host other than the loopback one."""
    return isinstance(url, str) and url[:7].lower() == "http://" and \
        not re.match(r"http://(localhost|127\.0\.0\.1)\b", url, re.IGNORECASE)


def _types(schema: Any) -> tuple[set[str], bool]:
    """(the types a schema names, whether it describes an object or array)."""
    if not isinstance(schema, dict):
        return set(), False
    raw = schema.get("type")
    types = {t for t in (raw if isinstance(raw, list) else [raw]) if isinstance(t, str)}
    return types, bool(types & {"object", "array"}) or (
        not types and any(k in schema for k in _STRUCTURE))


def _may_contain(schema: Any, separators: list[str]) -> bool:
    """Whether a string schema admits a separator (unknown means yes)."""
    if not isinstance(schema, dict) or not separators:
        return False
    if schema.get("type") in ("integer", "number", "boolean"):
        negative = "-" in separators and schema.get("minimum", -1) < 0
        return negative or ("." in separators and schema.get("type") == "number")
    if isinstance(schema.get("enum"), list):
        return any(s in str(v) for v in schema["enum"] for s in separators)
    pattern = schema.get("pattern")
    if isinstance(pattern, str) and re.fullmatch(r"\^?\[?[A-Za-z0-9\\dw\]\-]*\]?[+*]?"
                                                 r"(\{\d+(,\d*)?\})?\$?", pattern):
        return any(s in pattern.replace("\\d", "").replace("a-z", "").replace("A-Z", "")
                   .replace("0-9", "") for s in separators)
    return True


def _no_json(body: bytes) -> Any:  # pragma: no cover - never called: nothing is decoded
    return None


def _value_at(document: Any, pointer: str) -> Any:
    for token in split_pointer(pointer):
        document = document[int(token)] if isinstance(document, list) else document[token]
    return document


def check_spec_file(path: str, text: str | None = None) -> list[Finding]:
    """Findings for one spec (``text`` for stdin); Unreadable when it cannot be read."""
    try:
        if text is not None:
            notes = YamlNotes()
            content = parse(text, "<stdin>", notes=notes)
            if not isinstance(content, dict):
                raise Unreadable("<stdin>: the document is not a mapping")
            document = Document(MAPPING_URI, content, file="<stdin>", text=text)
            document.notes = notes
            spec = Spec(document, None, None)
            spec.index = check_spec(spec)
        else:
            spec = load_spec(path)
    except SpecError as exc:
        message = exc.message
        if _unreadable(message):
            raise Unreadable(str(exc)) from None
        file = exc.file if exc.file is not None else path
        return [Finding("SG001", "error", message, file, exc.line, exc.column, exc.pointer)]
    findings = list(dict.fromkeys(_Checker(spec).run()))  # one finding per place and message
    return sorted(findings, key=lambda f: (f.file or "", f.line or 0, f.column or 0, f.rule))


def _unreadable(message: str) -> bool:
    return message.startswith(("cannot read the file", "the document is binary",
                               "the document is not a mapping",
                               "the document is not UTF-8", "no such file",
                               "the document is empty",
                               "the document is not a mapping"))

