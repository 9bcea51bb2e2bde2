"""Engine errors to Violation records: pointers, keywords and one-line messages.

jsonschema-rs's own messages quote the offending value; they are never passed on. Each
message here is built from the error kind and the schema's limits only. The property names in
``required`` come from the schema; an unexpected property is named only by its pointer.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any, Final

import jsonschema_rs
import orjson

from ._compile import FRAGMENT, LENGTH_GUARD, Compiler, Selector
from ._regex import original
from ._source import escape_token, join_pointer
from .errors import SLOT_SETTERS, Location, RequestValidationError, Violation

_Kind = jsonschema_rs.ValidationErrorKind


# Final: compiled code reads them as C globals, not from the module's dict.
_new_violation: Final = object.__new__
_VIOLATION: Final = Violation
_location: Final = SLOT_SETTERS[0]
_name: Final = SLOT_SETTERS[1]
_pointer_of: Final = SLOT_SETTERS[2]
_keyword: Final = SLOT_SETTERS[3]
_message: Final = SLOT_SETTERS[4]
_schema_pointer: Final = SLOT_SETTERS[5]


def violation(location: Location, name: str | None, pointer: str, keyword: str,
              message: str, schema_pointer: str) -> Violation:
    """``Violation(...)``, built from compiled code at about half the cost: the same
    object, its slots set by the same descriptors, without the interpreted ``__init__``
    (~3.3k instructions a violation instead of ~6k; four of them were a fifth of a refused
    1 KB body's conversion)."""
    made: Violation = _new_violation(_VIOLATION)
    _location(made, location)
    _name(made, name)
    _pointer_of(made, pointer)
    _keyword(made, keyword)
    _message(made, message)
    _schema_pointer(made, schema_pointer)
    return made


_new_refusal: Final = RequestValidationError.__new__
_REFUSAL: Final = RequestValidationError


def refusal(detail: str, violations: list[Violation], status_code: int
            ) -> RequestValidationError:
    """``RequestValidationError(detail, violations, status_code=...)``, built from compiled
    code without its two interpreted ``__init__``s (~8.8k instructions a refusal, against
    ~2k here): the same attributes, set directly (tests/test_violations.py compares them)."""
    error: RequestValidationError = _new_refusal(_REFUSAL, detail)  # args == (detail,)
    error.detail = detail
    error.violations = tuple(violations)
    error.headers = []
    error.type = "about:blank"
    error.operation = None
    if status_code == 422:
        error.status_code = 422
        error.title = "Unprocessable Content"
    return error


def _json_text(value: Any) -> str:
    """A schema-side value as JSON text: integers of any size (a spec may bound a number
    beyond 64 bits, where orjson stops)."""
    if type(value) is int:
        return str(value)
    try:
        return orjson.dumps(value, default=str).decode()
    except TypeError:  # an integer beyond 64 bits inside a list or an object
        return json.dumps(value, default=str, separators=(",", ":"), ensure_ascii=False)


def _limit(value: Any) -> str:
    """A schema-side value (a limit, a pattern, an enum member) shortened for a message."""
    text = value if isinstance(value, str) else _json_text(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _literal(value: Any) -> str:
    return _limit(_json_text(value))


def _types(types: list[str]) -> str:
    return " or ".join(types)


ONE_OF_NONE = "expected a value matching exactly one `oneOf` schema, it matches none"
ONE_OF_SEVERAL = "expected a value matching exactly one `oneOf` schema, it matches several"
ANY_OF = "expected a value matching at least one `anyOf` schema"
UNIQUE_ITEMS = "expected unique items"
CONSTANT = "expected the constant value"
NOT_ALLOWED = "property is not allowed"
NOT = "value must not match the `not` schema"


def _s(count: int, one: str = "", many: str = "s") -> str:
    return one if count == 1 else many


# Messages made of a keyword's schema value only: also what _explain writes for the
# keywords it tells without the engine.
_BOUNDS = {"minimum": ">=", "maximum": "<=", "exclusiveMinimum": ">", "exclusiveMaximum": "<"}
_COUNTED = {"minLength": ("at least", "character"), "maxLength": ("at most", "character"),
            "minItems": ("at least", "item"), "maxItems": ("at most", "item"),
            "minProperties": ("at least", "propert"), "maxProperties": ("at most", "propert")}


def type_message(types: list[str]) -> str:
    return f"expected {_types(types)}"


def required_message(name: str) -> str:
    return f"missing required property `{name}`"


def bound_message(keyword: str, limit: Any) -> str:
    """minimum, maximum, exclusiveMinimum, exclusiveMaximum."""
    return f"expected a number {_BOUNDS[keyword]} {_limit(limit)}"


def count_message(keyword: str, limit: int) -> str:
    """min/maxLength, min/maxItems, min/maxProperties."""
    most, noun = _COUNTED[keyword]
    if noun == "propert":
        return f"expected {most} {limit} propert{_s(limit, 'y', 'ies')}"
    return f"expected {most} {limit} {noun}{_s(limit)}"


def enum_message(options: list[Any]) -> str:
    return "expected one of: " + ", ".join(_literal(o) for o in options[:8]) + (
        ", ..." if len(options) > 8 else "")


# One-line messages by error kind (the kind's type), without the instance's value.
_MESSAGES: dict[type, Callable[[Any], str]] = {
    _Kind.Type: lambda k: type_message(list(k.types)),
    _Kind.Required: lambda k: required_message(k.property),
    _Kind.Minimum: lambda k: bound_message("minimum", k.limit),
    _Kind.Maximum: lambda k: bound_message("maximum", k.limit),
    _Kind.ExclusiveMinimum: lambda k: bound_message("exclusiveMinimum", k.limit),
    _Kind.ExclusiveMaximum: lambda k: bound_message("exclusiveMaximum", k.limit),
    _Kind.MultipleOf: lambda k: f"expected a multiple of {_limit(k.multiple_of)}",
    _Kind.MinLength: lambda k: count_message("minLength", k.limit),
    _Kind.MaxLength: lambda k: count_message("maxLength", k.limit),
    _Kind.Pattern: lambda k: f"expected a string matching `{_limit(original(k.pattern))}`",
    _Kind.Format: lambda k: f"expected a valid {_limit(k.format.partition(LENGTH_GUARD)[0])}",
    _Kind.Enum: lambda k: enum_message(k.options),
    _Kind.Constant: lambda k: CONSTANT,
    _Kind.MinItems: lambda k: count_message("minItems", k.limit),
    _Kind.MaxItems: lambda k: count_message("maxItems", k.limit),
    _Kind.UniqueItems: lambda k: UNIQUE_ITEMS,
    _Kind.MinProperties: lambda k: count_message("minProperties", k.limit),
    _Kind.MaxProperties: lambda k: count_message("maxProperties", k.limit),
    _Kind.AdditionalProperties: lambda k: NOT_ALLOWED,
    _Kind.UnevaluatedProperties: lambda k: "property is not allowed",
    _Kind.AdditionalItems: lambda k: "item is not allowed",
    _Kind.UnevaluatedItems: lambda k: "item is not allowed",
    _Kind.FalseSchema: lambda k: "no value is allowed here",
    _Kind.OneOfNotValid: lambda k: ONE_OF_NONE,
    _Kind.OneOfMultipleValid: lambda k: ONE_OF_SEVERAL,
    _Kind.AnyOf: lambda k: ANY_OF,
    _Kind.Not: lambda k: NOT,
    _Kind.Contains: lambda k: "expected at least one item matching `contains`",
    _Kind.PropertyNames: lambda k: "property name is not allowed by `propertyNames`",
    _Kind.BacktrackLimitExceeded: lambda k: "pattern could not be evaluated within its budget",
    _Kind.RegexEngineFailure: lambda k: "pattern could not be evaluated within its budget",
}


def message(kind: Any, keyword: str) -> str:
    """A one-line message for an error kind, without the instance's value."""
    render = _MESSAGES.get(type(kind))
    if render is None:
        for cls, found in _MESSAGES.items():  # a subclass of a known kind
            if isinstance(kind, cls):
                return found(kind)
        return f"value is not valid under `{keyword}`"
    return render(kind)


def _pointer(path: list[str | int]) -> str:
    pointer = ""
    for token in path:
        if isinstance(token, str):
            pointer += "/" + (escape_token(token) if "~" in token or "/" in token else token)
        else:
            pointer += "/" + str(token)
    return pointer


UNKNOWN: Any = object()  # an instance or schema not given
_MISSING: Final = object()  # a property the instance does not have
_SEARCH_BUDGET = 4_096  # places visited when an empty property name makes a path ambiguous


def instance_pointer(error: jsonschema_rs.ValidationError, instance: Any = UNKNOWN) -> str:
    """The pointer of ``error``'s instance inside ``instance`` (the value the engine checked).

    jsonschema-rs leaves the token of an empty property name out of its instance paths, so
    ``{"": "x"}`` failing below ``""`` is reported at ``[]`` (the root) instead of ``/``. Where
    a dict on the path has the key ``""``, the places the path can stand for are searched for
    the error's value, the engine's own reading first (RFC 6901 §4: the empty name's token is
    the empty string). Paths without such a dict are used as they are.
    """
    path = error.instance_path
    if instance is UNKNOWN or not _may_drop(instance, path):
        return _pointer(path)
    found = _search(instance, path, 0, [], error.instance, [_SEARCH_BUDGET])
    return _pointer(path if found is None else found)


def _may_drop(instance: Any, path: list[str | int]) -> bool:
    """Whether a dict on ``path`` (the end included) has the key "" or the path leaves the
    instance: only then can a token have been dropped."""
    node = instance
    for token in path:
        if type(node) is dict:
            if "" in node or token not in node:
                return True
            node = node[token]
        elif type(node) is list and type(token) is int and 0 <= token < len(node):
            node = node[token]
        else:
            return True
    return type(node) is dict and "" in node


def _search(node: Any, path: list[str | int], at: int, taken: list[str | int], target: Any,
            budget: list[int]) -> list[str | int] | None:
    budget[0] -= 1
    if budget[0] < 0:
        return None
    if at == len(path) and type(node) is type(target) and node == target:
        return taken
    if type(node) is dict:
        token = path[at] if at < len(path) else None
        if type(token) is str and token in node:
            found = _search(node[token], path, at + 1, [*taken, token], target, budget)
            if found is not None:
                return found
        if "" in node:
            return _search(node[""], path, at, [*taken, ""], target, budget)
    elif type(node) is list and at < len(path):
        index = path[at]
        if type(index) is int and 0 <= index < len(node):
            return _search(node[index], path, at + 1, [*taken, index], target, budget)
    return None


_NAMES = frozenset({"properties", "patternProperties", "definitions", "$defs",
                    "dependentSchemas", "dependencies"})  # keywords whose keys are names


def plain_schema_pointer(schema: Any, path: list[str | int]) -> str:
    """The pointer of a keyword the engine reports at ``path`` inside ``schema`` (a plain
    JSON Schema, whose errors carry no keyword location): the engine leaves the empty
    property name out of this path as well, so where a dict on it has the key ``""`` the
    schema is searched for a reading that ends at a keyword (not at a name)."""
    if not _may_drop(schema, path):
        return _pointer(path)
    found = _keyword_search(schema, path, 0, [], [_SEARCH_BUDGET])
    return _pointer(path if found is None else found)


def _keyword_search(node: Any, path: list[str | int], at: int, taken: list[str | int],
                    budget: list[int]) -> list[str | int] | None:
    budget[0] -= 1
    if budget[0] < 0:
        return None
    if at == len(path):  # the last token taken must be a keyword, not a property name
        return taken if len(taken) < 2 or taken[-2] not in _NAMES else None
    token = path[at]
    if type(node) is dict:
        if type(token) is str and token in node:
            found = _keyword_search(node[token], path, at + 1, [*taken, token], budget)
            if found is not None:
                return found
        if "" in node and taken and taken[-1] in _NAMES:
            return _keyword_search(node[""], path, at, [*taken, ""], budget)
    elif type(node) is list and type(token) is int and 0 <= token < len(node):
        return _keyword_search(node[token], path, at + 1, [*taken, token], budget)
    return None


_KEPT = 65_536  # keyword locations remembered per compiler (bounded by the spec's keywords)
_PLAIN, _REQUIRED, _UNEXPECTED = range(3)
# Kinds whose message is made of the schema's values only: the same at one keyword location.
_SCHEMA_MESSAGES = (_Kind.Type, _Kind.Minimum, _Kind.Maximum, _Kind.ExclusiveMinimum,
                    _Kind.ExclusiveMaximum, _Kind.MultipleOf, _Kind.MinLength, _Kind.MaxLength,
                    _Kind.Pattern, _Kind.Format, _Kind.Enum, _Kind.Constant, _Kind.MinItems,
                    _Kind.MaxItems, _Kind.UniqueItems, _Kind.MinProperties,
                    _Kind.MaxProperties, _Kind.AdditionalProperties,
                    _Kind.UnevaluatedProperties, _Kind.FalseSchema, _Kind.OneOfNotValid,
                    _Kind.OneOfMultipleValid, _Kind.AnyOf, _Kind.Not, _Kind.Contains)


class Report:
    """How the errors of one engine keyword location are reported, worked out once: its
    spec pointer, selector and note, the error kind's keyword and (when it depends on the
    schema only) message."""

    __slots__ = ("keyword", "kind", "message", "note", "schema_pointer", "selector", "shape")

    def __init__(self, compiler: Compiler, where: str, error: jsonschema_rs.ValidationError,
                 kind: Any) -> None:
        self.kind = type(kind)
        self.keyword = keyword = kind.name
        self.schema_pointer = schema_pointer_of(compiler, where, error.schema_path)
        self.selector = compiler.selectors.get(where)
        self.note = noted(compiler, where)
        self.message = message(kind, keyword) if isinstance(kind, _SCHEMA_MESSAGES) else None
        self.shape = _shape(kind)


def noted(compiler: Compiler, where: str) -> tuple[str, str, str] | None:
    """(keyword, message, spec pointer) of the note on an engine keyword location (a keyword
    the rewrite introduced, reported as what the spec said), or None."""
    note = compiler.notes.get(where)
    if note is None:
        return None
    origin = compiler.origin(where)
    uri = origin[0][0] if origin is not None else FRAGMENT
    return note.keyword, note.message, compiler.display((uri, note.schema_pointer), "")


def _shape(kind: Any) -> int:
    """Where an error kind's violations point: at the instance, at the missing property, or
    at each unexpected one."""
    if isinstance(kind, _Kind.Required):
        return _REQUIRED
    if isinstance(kind, (_Kind.AdditionalProperties, _Kind.UnevaluatedProperties)):
        return _UNEXPECTED
    return _PLAIN


def _emit(shape: int, kind: Any, location: Location, name: str | None, pointer: str,
          keyword: str, text: str, schema_pointer: str) -> list[Violation]:
    if shape == _PLAIN:
        return [violation(location, name, pointer, keyword, text, schema_pointer)]
    if shape == _REQUIRED:
        return [violation(location, name, join_pointer(pointer, kind.property), keyword, text,
                          schema_pointer)]
    return [violation(location, name, join_pointer(pointer, prop), keyword, text,
                      schema_pointer) for prop in kind.unexpected]


def convert(
    compiler: Compiler, error: jsonschema_rs.ValidationError, location: Location,
    name: str | None, prefix: str = "", instance: Any = UNKNOWN,
    schema: Any = UNKNOWN, keyed: bool = False,
) -> list[Violation]:
    """The violations one engine error stands for (its instance found at ``prefix``;
    ``instance``, when given, is the value the engine checked: see ``instance_pointer``;
    ``schema`` the plain schema it ran, for errors without a keyword location; ``keyed``:
    the instance is an object of named values (the parameters) and the pointer starts
    below its first token)."""
    path = error.instance_path
    pointer = prefix + (_pointer(path) if instance is UNKNOWN or not _may_drop(instance, path)
                        else instance_pointer(error, instance))
    if keyed:  # the first token is escaped: its end is the next "/"
        below = pointer.find("/", 1)
        pointer = "" if below < 0 else pointer[below:]
    kind: Any = error.kind
    where = error.absolute_keyword_location
    if where is None:
        return _unlocated(compiler, error, kind, location, name, pointer, schema)
    report = compiler.reports.get(where)
    if report is None or report.kind is not type(kind):
        report = Report(compiler, where, error, kind)
        if len(compiler.reports) < _KEPT:
            compiler.reports[where] = report
    if report.selector is not None and isinstance(kind, (_Kind.OneOfNotValid, _Kind.AnyOf)):
        return list(_selected(compiler, error, report.selector, location, name,
                              report.schema_pointer, pointer, prefix, instance, keyed))
    if report.note is not None:
        keyword, text, schema_pointer = report.note
        return [violation(location, name, pointer, keyword, text, schema_pointer)]
    keyword = report.keyword
    return _emit(report.shape, kind, location, name, pointer, keyword,
                 report.message or message(kind, keyword), report.schema_pointer)


def _unlocated(compiler: Compiler, error: jsonschema_rs.ValidationError, kind: Any,
               location: Location, name: str | None, pointer: str, schema: Any
               ) -> list[Violation]:
    """convert for an error without a keyword location (a plain schema's)."""
    keyword = kind.name
    schema_pointer = (plain_schema_pointer(schema, error.schema_path) if schema is not UNKNOWN
                      else schema_pointer_of(compiler, None, error.schema_path))
    return _emit(_shape(kind), kind, location, name, pointer, keyword, message(kind, keyword),
                 schema_pointer)


def schema_pointer_of(compiler: Compiler, where: str | None, schema_path: list[str | int]) -> str:
    if where is not None:
        cached = compiler.schema_pointers.get(where)
        if cached is not None:
            return cached
        origin = compiler.origin(where)
        if origin is not None:
            found = compiler.display(*origin)
            if len(compiler.schema_pointers) < 65_536:  # bounded by the spec's keywords
                compiler.schema_pointers[where] = found
            return found
    return _pointer(schema_path)


def select(selector: Selector, instance: Any, pointer: str, location: Location,
           name: str | None, schema_pointer: str) -> int | Violation:
    """The index of the guarded branch a discriminator selects for ``instance`` (at
    ``pointer``), or the violation that says why none is selected. ``schema_pointer`` is the
    spec pointer of the oneOf/anyOf."""
    if not isinstance(instance, dict):
        return violation(location, name, pointer, "type", "expected object", schema_pointer)
    tag = instance.get(selector.property, _MISSING)
    index = selector.branches.get(tag) if isinstance(tag, str) else None
    if index is not None:
        return index
    # (the pointers are made only for a violation: a selected branch needs none)
    tag_pointer = join_pointer(pointer, selector.property)
    disc_pointer = schema_pointer.rsplit("/", 1)[0] + "/discriminator"
    if tag is _MISSING:
        return violation(location, name, tag_pointer, "required",
                         f"missing required property `{selector.property}` (the discriminator)",
                         disc_pointer)
    values = ", ".join(sorted(selector.branches))
    return violation(location, name, tag_pointer, "discriminator",
                     f"expected a discriminator value naming a schema: {_limit(values)}",
                     disc_pointer)


def _selected(
    compiler: Compiler,
    error: jsonschema_rs.ValidationError,
    selector: Selector,
    location: Location,
    name: str | None,
    schema_pointer: str,
    pointer: str,
    prefix: str,
    instance: Any,
    keyed: bool,
) -> Iterator[Violation]:
    """Report a discriminator's selected branch instead of the whole oneOf/anyOf."""
    index = select(selector, error.instance, pointer, location, name, schema_pointer)
    if isinstance(index, Violation):
        yield index
        return
    guard = f"/{index}/allOf/0"
    kind = error.kind
    branches = kind.context if isinstance(kind, (_Kind.OneOfNotValid, _Kind.AnyOf)) else []
    for sub in branches[index] if index < len(branches) else ():
        where = sub.absolute_keyword_location or ""
        if guard in where and where.split(guard, 1)[0].endswith(("/oneOf", "/anyOf")):
            continue  # the guard on the discriminator value itself
        yield from convert(compiler, sub, location, name, prefix, instance, keyed=keyed)
