"""Engine errors to Violation records: pointers, keywords and one-line messages.

jsonschema-rs's own messages quote the offending value; they are never passed on. Each
message here is built from the error kind and the schema's limits only. The property names in
``required`` come from the schema; an unexpected property is named only by its pointer.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import jsonschema_rs
import orjson

from ._compile import FRAGMENT, LENGTH_GUARD, Compiler
from ._regex import original
from ._source import escape_token, join_pointer
from .errors import Location, Violation

_Kind = jsonschema_rs.ValidationErrorKind


def _limit(value: Any) -> str:
    """A schema-side value (a limit, a pattern, an enum member) shortened for a message."""
    text = value if isinstance(value, str) else orjson.dumps(value, default=str).decode()
    return text if len(text) <= 80 else text[:77] + "..."


def _literal(value: Any) -> str:
    return _limit(orjson.dumps(value, default=str).decode())


def _types(types: list[str]) -> str:
    return " or ".join(types)


def message(kind: Any, keyword: str) -> str:
    """A one-line message for an error kind, without the instance's value."""
    match kind:
        case _Kind.Type(types):
            return f"expected {_types(list(types))}"
        case _Kind.Required(prop):
            return f"missing required property `{prop}`"
        case _Kind.Minimum(limit):
            return f"expected a number >= {_limit(limit)}"
        case _Kind.Maximum(limit):
            return f"expected a number <= {_limit(limit)}"
        case _Kind.ExclusiveMinimum(limit):
            return f"expected a number > {_limit(limit)}"
        case _Kind.ExclusiveMaximum(limit):
            return f"expected a number < {_limit(limit)}"
        case _Kind.MultipleOf(multiple):
            return f"expected a multiple of {_limit(multiple)}"
        case _Kind.MinLength(limit):
            return f"expected at least {limit} character{'s' * (limit != 1)}"
        case _Kind.MaxLength(limit):
            return f"expected at most {limit} character{'s' * (limit != 1)}"
        case _Kind.Pattern(pattern):
            return f"expected a string matching `{_limit(original(pattern))}`"
        case _Kind.Format(fmt):
            return f"expected a valid {_limit(fmt.partition(LENGTH_GUARD)[0])}"
        case _Kind.Enum(options):
            shown = ", ".join(_literal(o) for o in options[:8])
            return f"expected one of: {shown}" + (", ..." if len(options) > 8 else "")
        case _Kind.Constant():
            return "expected the constant value"
        case _Kind.MinItems(limit):
            return f"expected at least {limit} item{'s' * (limit != 1)}"
        case _Kind.MaxItems(limit):
            return f"expected at most {limit} item{'s' * (limit != 1)}"
        case _Kind.UniqueItems():
            return "expected unique items"
        case _Kind.MinProperties(limit):
            return f"expected at least {limit} propert{'ies' if limit != 1 else 'y'}"
        case _Kind.MaxProperties(limit):
            return f"expected at most {limit} propert{'ies' if limit != 1 else 'y'}"
        case _Kind.AdditionalProperties() | _Kind.UnevaluatedProperties():
            return "property is not allowed"
        case _Kind.AdditionalItems() | _Kind.UnevaluatedItems():
            return "item is not allowed"
        case _Kind.FalseSchema():
            return "no value is allowed here"
        case _Kind.OneOfNotValid():
            return "expected a value matching exactly one `oneOf` schema, it matches none"
        case _Kind.OneOfMultipleValid():
            return "expected a value matching exactly one `oneOf` schema, it matches several"
        case _Kind.AnyOf():
            return "expected a value matching at least one `anyOf` schema"
        case _Kind.Not():
            return "value must not match the `not` schema"
        case _Kind.Contains():
            return "expected at least one item matching `contains`"
        case _Kind.PropertyNames():
            return "property name is not allowed by `propertyNames`"
        case _Kind.BacktrackLimitExceeded() | _Kind.RegexEngineFailure():
            return "pattern could not be evaluated within its budget"
    return f"value is not valid under `{keyword}`"


def _pointer(path: list[str | int]) -> str:
    if not path:
        return ""
    text = "/".join(map(str, path))
    if "~" not in text and text.count("/") == len(path) - 1:  # no token needs escaping
        return "/" + text
    return "".join("/" + escape_token(str(token)) for token in path)


def convert(
    compiler: Compiler, error: jsonschema_rs.ValidationError, location: Location, name: str | None
) -> Iterator[Violation]:
    """The violations one engine error stands for."""
    kind = error.kind
    keyword = kind.name
    pointer = _pointer(error.instance_path)
    where = error.absolute_keyword_location
    schema_pointer = _schema_pointer(compiler, where, error.schema_path)
    if where is not None:
        selector = compiler.selectors.get(where)
        if selector is not None and isinstance(kind, (_Kind.OneOfNotValid, _Kind.AnyOf)):
            yield from _selected(compiler, error, selector, location, name, schema_pointer)
            return
        note = compiler.notes.get(where)
        if note is not None:
            origin = compiler.origin(where)
            uri = origin[0][0] if origin is not None else FRAGMENT
            yield Violation(location, name, pointer, note.keyword, note.message,
                            compiler.display((uri, note.schema_pointer), ""))
            return
    text = message(kind, keyword)
    match kind:
        case _Kind.Required(prop):
            yield Violation(location, name, join_pointer(pointer, prop), keyword, text,
                            schema_pointer)
        case _Kind.AdditionalProperties(unexpected) | _Kind.UnevaluatedProperties(unexpected):
            for prop in unexpected:
                yield Violation(location, name, join_pointer(pointer, prop), keyword, text,
                                schema_pointer)
        case _:
            yield Violation(location, name, pointer, keyword, text, schema_pointer)


def _schema_pointer(compiler: Compiler, where: str | None, schema_path: list[str | int]) -> str:
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


def _selected(
    compiler: Compiler,
    error: jsonschema_rs.ValidationError,
    selector: Any,
    location: Location,
    name: str | None,
    schema_pointer: str,
) -> Iterator[Violation]:
    """Report a discriminator's selected branch instead of the whole oneOf/anyOf."""
    instance = error.instance
    pointer = _pointer(error.instance_path)
    disc_pointer = schema_pointer.rsplit("/", 1)[0] + "/discriminator"
    if not isinstance(instance, dict):
        yield Violation(location, name, pointer, "type", "expected object", schema_pointer)
        return
    tag_pointer = join_pointer(pointer, selector.property)
    if selector.property not in instance:
        yield Violation(location, name, tag_pointer, "required",
                        f"missing required property `{selector.property}` (the discriminator)",
                        disc_pointer)
        return
    index = selector.branches.get(instance[selector.property]) if isinstance(
        instance[selector.property], str) else None
    if index is None:
        values = ", ".join(sorted(selector.branches))
        yield Violation(location, name, tag_pointer, "discriminator",
                        f"expected a discriminator value naming a schema: {_limit(values)}",
                        disc_pointer)
        return
    guard = f"/{index}/allOf/0"
    kind = error.kind
    branches = kind.context if isinstance(kind, (_Kind.OneOfNotValid, _Kind.AnyOf)) else []
    for sub in branches[index] if index < len(branches) else ():
        where = sub.absolute_keyword_location or ""
        if guard in where and where.split(guard, 1)[0].endswith(("/oneOf", "/anyOf")):
            continue  # the guard on the discriminator value itself
        yield from convert(compiler, sub, location, name)
