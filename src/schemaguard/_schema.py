"""``compile_schema``: one schema, compiled once, checked many times."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import jsonschema_rs

from ._compile import Compiler, Context, compiler_for
from ._keywords import DIALECTS, Dialect, check_keywords, subschemas
from ._source import join_pointer
from ._spec import Spec
from ._violations import convert
from .errors import Location, SchemaValidationError, SpecError, Violation

MAX_SCHEMA_DEPTH = 256


class SchemaValidator:
    """A compiled schema. Immutable and safe to share between threads.

    ``is_valid`` is the engine's own call (no Python in between); violations are computed only
    when asked for.
    """

    __slots__ = ("_compiler", "_validator", "dialect", "is_valid")

    def __init__(self, compiler: Compiler, validator: jsonschema_rs.Validator) -> None:
        self._compiler = compiler
        self._validator = validator
        self.dialect = compiler.dialect
        self.is_valid: Callable[[Any], bool] = validator.is_valid

    def iter_violations(
        self, instance: Any, *, location: Location = "body", name: str | None = None
    ) -> Iterator[Violation]:
        """The violations of ``instance``, lazily, in the engine's order."""
        for error in self._validator.iter_errors(instance):
            yield from convert(self._compiler, error, location, name)

    def validate(self, instance: Any, *, max_errors: int = 20) -> None:
        """Raise ``SchemaValidationError`` (at most ``max_errors`` violations) if invalid."""
        if self.is_valid(instance):
            return
        violations: list[Violation] = []
        for violation in self.iter_violations(instance):
            violations.append(violation)
            if len(violations) >= max_errors:
                break
        raise SchemaValidationError(tuple(violations))

    def __repr__(self) -> str:
        return f"<SchemaValidator dialect={self.dialect!r}>"


def compile_schema(
    schema: Any,
    dialect: Dialect = "draft2020-12",
    context: Context | None = None,
    formats: dict[str, Callable[[str], bool]] | None = None,
    spec: Spec | None = None,
) -> SchemaValidator:
    """Compile ``schema`` (a mapping or a boolean) in ``dialect``.

    ``context`` ("request" or "response") applies readOnly/writeOnly; ``formats`` adds format
    checkers; ``spec`` lets ``$ref: "#/components/..."`` resolve against that spec. A malformed
    schema raises ``SpecError`` with the pointer of the offending keyword.
    """
    if dialect not in DIALECTS:
        raise ValueError(f"unknown dialect {dialect!r}; expected one of {', '.join(DIALECTS)}")
    if context not in (None, "request", "response"):
        raise ValueError(f"unknown context {context!r}; expected None, 'request' or 'response'")
    _check(schema, dialect)
    compiler = compiler_for(spec, dialect, context)
    try:
        validator, _ = compiler.build(schema, formats)
    except jsonschema_rs.ValidationError as exc:  # the engine refused the rewritten schema
        raise SpecError(f"invalid schema: {exc.message.splitlines()[0][:200]}") from None
    return SchemaValidator(compiler, validator)


def compile_at(
    spec: Spec,
    pointer: str,
    *,
    context: Context | None,
    formats: dict[str, Callable[[str], bool]] | None = None,
    uri: str | None = None,
) -> SchemaValidator:
    """Compile the schema found at ``pointer`` of the spec (errors point at its real place)."""
    from ._source import split_pointer

    uri = uri or spec.uri
    node: Any = spec.document(uri).content
    for token in split_pointer(pointer):
        node = node[int(token)] if isinstance(node, list) else node[token]
    compiler = compiler_for(spec, spec.schema_dialect, context)
    validator, _ = compiler.build(node, formats, origin=(uri, pointer))
    return SchemaValidator(compiler, validator)


def _check(schema: Any, dialect: Dialect) -> None:
    """The load-time keyword checks, for a schema given directly."""
    stack: list[tuple[str, Any]] = [("", schema)]
    seen: set[int] = set()
    while stack:
        pointer, node = stack.pop()
        if isinstance(node, bool):
            continue
        if not isinstance(node, dict):
            raise SpecError("a schema must be an object or a boolean", pointer=pointer)
        if id(node) in seen:
            continue
        seen.add(id(node))
        if pointer.count("/") > MAX_SCHEMA_DEPTH:
            raise SpecError("schema is nested too deeply", pointer=pointer)
        for keyword, problem in check_keywords(node, dialect):
            raise SpecError(f"`{keyword}` {problem}", pointer=join_pointer(pointer, keyword))
        for path, child, _ in subschemas(node):
            stack.append((join_pointer(pointer, *path), child))
