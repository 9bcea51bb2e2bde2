"""``compile_schema``: one schema, compiled once, checked many times."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from itertools import islice
from typing import Any
from urllib.parse import unquote

import jsonschema_rs

from ._bound import ANYTHING, Bound, schema_bound
from ._compile import Compiler, Context, compiler_for
from ._depth import LONG_ARRAY_DEPTH, PRUNED_ITEMS, deeper_than, survey
from ._explain import explain
from ._graph import MAX_IN_PLACE_COST, find_cycle, over_budget
from ._keywords import DIALECTS, Dialect, check_keywords, subschemas
from ._locate import Locator
from ._locate import small as few_containers
from ._source import join_pointer, split_pointer
from ._spec import Spec
from ._violations import UNKNOWN, convert
from ._walk import MAX_SCHEMA_DEPTH
from .errors import Location, SchemaValidationError, SpecError, Violation

MAX_INSTANCE_DEPTH = 1024  # for recursive schemas given to compile_schema
# Past this size (bytes of the document) an invalid body is "large" to first_violations: a
# part the locator cannot split is reported from a truncated copy (bounded cost).
LARGE_BODY = 65_536

# Keywords whose verdict depends on a whole array or subtree, so truncating one can change it.
_WHOLE_VALUE = frozenset({"minItems", "maxItems", "uniqueItems", "contains", "minContains",
                          "maxContains", "unevaluatedItems", "additionalItems", "items",
                          "oneOf", "anyOf", "not", "const", "enum", "discriminator",
                          "falseSchema", "if", "then", "else"})


def _prune(instance: Any) -> tuple[Any, list[str]]:
    """A copy with every array cut to its first PRUNED_ITEMS items, and where it was cut.

    Subtrees without a long array are shared, not copied; pointers are built only for cuts.
    """
    cut: list[str] = []

    def copy(node: Any, path: tuple[str | int, ...]) -> Any:
        if type(node) is dict:
            changed = False
            out = {}
            for key, value in node.items():
                new = copy(value, (*path, key)) if type(value) in (dict, list) else value
                changed = changed or new is not value
                out[key] = new
            return out if changed else node
        if type(node) is list:
            long = len(node) > PRUNED_ITEMS
            if long:
                cut.append(join_pointer("", *path))
            items = node[:PRUNED_ITEMS] if long else node
            copied = [copy(v, (*path, i)) if type(v) in (dict, list) else v
                      for i, v in enumerate(items)]
            if long or any(a is not b for a, b in zip(copied, items, strict=True)):
                return copied
            return node
        return node

    return copy(instance, ()), cut


def _has_long_array(node: Any, size: int, depth: int) -> bool:
    """Whether an array longer than ``size`` sits within ``depth`` levels (no full walk)."""
    return survey(node, depth, size, depth)[1]


def _maybe_from_pruning(violation: Violation, cut: list[str]) -> bool:
    if violation.keyword not in _WHOLE_VALUE:
        return False
    pointer = violation.pointer
    return any(c == pointer or c.startswith(pointer + "/") or pointer == "" for c in cut)


class SchemaValidator:
    """A compiled schema. Immutable and safe to share between threads.

    ``is_valid`` is the engine's own call (no Python in between); violations are computed only
    when asked for.
    """

    __slots__ = ("_locator", "_max_depth", "_root", "_validator", "compiler", "dialect",
                 "is_valid", "plain")

    def __init__(self, compiler: Compiler, validator: jsonschema_rs.Validator,
                 max_depth: int | None = None, root: str | None = None,
                 formats: dict[str, Callable[[str], bool]] | None = None) -> None:
        self.compiler = compiler
        self._validator = validator
        self._max_depth = max_depth
        self._root = root  # the compiler's definition id of the schema, when known
        # A plain schema's errors carry no keyword location: their schema pointers are read
        # off the schema itself (_violations.plain_schema_pointer).
        self.plain = compiler.node(root, "") if root is not None and \
            not compiler.addressable else UNKNOWN
        self.dialect = compiler.dialect
        self.is_valid: Callable[[Any], bool] = validator.is_valid
        # Finds the first violations of a big instance part by part (_locate); a recursive
        # schema is reported whole, behind its depth guard.
        self._locator = Locator(compiler, root, formats) if (
            root is not None and max_depth is None and compiler.addressable) else None
        if max_depth is not None:
            self.is_valid = self._guarded_is_valid

    def instance_bound(self) -> Bound:
        """How deep a valid instance can nest and whether its numbers are small (_bound)."""
        if self._root is None:
            return ANYTHING
        return schema_bound(self.compiler.definitions(self._root), self._root,
                            self.compiler.ref(""), draft4=self.compiler.draft == 4)

    def _guarded_is_valid(self, instance: Any) -> bool:
        # A recursive schema follows the instance as deep as it goes; the engine's stack does
        # not survive ~10,000 levels, so deeper instances are refused before it sees them.
        return not deeper_than(instance, MAX_INSTANCE_DEPTH) and self._validator.is_valid(
            instance)

    def iter_violations(
        self, instance: Any, *, location: Location = "body", name: str | None = None
    ) -> Iterator[Violation]:
        """The violations of ``instance``, lazily, in the engine's order."""
        if self._max_depth is not None and deeper_than(instance, self._max_depth):
            yield Violation(location, name, "", "maxDepth",
                            f"instance is nested deeper than {self._max_depth} levels", "")
            return
        yield from self._errors(self._validator, instance, "", location, name)

    def engine_errors(self, instance: Any) -> Iterator[jsonschema_rs.ValidationError] | None:
        """The engine's errors of ``instance``, for a caller that converts them itself
        (``_violations.convert`` with ``compiler`` and ``plain``); None where only
        ``iter_violations`` can tell: a depth-guarded schema, or an instance past the
        engine's recursion limit."""
        if self._max_depth is not None:
            return None
        try:
            return iter(self._validator.iter_errors(instance))
        except ValueError:
            return None

    def _errors(self, validator: jsonschema_rs.Validator, instance: Any, prefix: str,
                location: Location, name: str | None) -> Iterator[Violation]:
        """The engine's errors of ``instance`` (found at ``prefix``) as violations."""
        try:
            errors = validator.iter_errors(instance)
        except ValueError as exc:  # the engine's own recursion limit on deep instances
            if "ecursion" not in str(exc):
                raise
            yield Violation(location, name, prefix, "maxDepth",
                            "instance is nested too deeply to report its violations", "")
            return
        compiler, schema = self.compiler, self.plain
        for error in errors:
            yield from convert(compiler, error, location, name, prefix, instance, schema)

    def _pruned_errors(self, validator: jsonschema_rs.Validator, instance: Any, prefix: str,
                       location: Location, name: str | None) -> Iterator[Violation]:
        """``_errors`` collected on a copy whose arrays keep their first items only;
        violations the truncation could have caused are dropped, and when none remain one
        summary violation stands for them (bad-inputs P55)."""
        pruned, cut = _prune(instance)
        if not cut:  # nothing was long: the instance is its own bounded copy
            yield from self._errors(validator, instance, prefix, location, name)
            return
        cut = [prefix + c for c in cut]
        found = False
        for violation in islice(self._errors(validator, pruned, prefix, location, name),
                                PRUNED_ITEMS * 4):
            if not _maybe_from_pruning(violation, cut):
                found = True
                yield violation
        if not found:
            yield Violation(location, name, prefix, "schema", "value does not conform to its "
                            "schema (details are not computed for large bodies)", "")

    def first_violations(self, instance: Any, limit: int, *, large: bool = False,
                         location: Location = "body", long: bool | None = None,
                         small: bool | None = None) -> list[Violation]:
        """At most ``limit`` violations of an instance known to be invalid, at a cost
        bounded by ``limit`` rather than by the instance.

        A small instance (at most ``_locate.SMALL`` containers, not ``large``) is told by
        _explain: the engine's ``is_valid`` of its values, and its errors only where a
        keyword that applies is not told there (a refused 1 KB body: ~4x faster than
        asking the engine for its errors). The engine builds every error before the first
        can be read (5,000 bad items of a
        discriminated oneOf cost ~0.5 s), so a big instance is split into parts that are
        checked one by one until ``limit`` violations are found (_locate). A big part that
        cannot be split, and a ``large`` instance without a locator, is reported from a copy
        whose arrays keep their first items only (``_pruned_errors``). ``long``: whether
        such an array is there, when the caller's ``survey`` found out; ``small``: whether the
        instance is known to hold at most ``_locate.SMALL`` containers.
        """
        locator = self._locator
        if locator is not None:
            tiny = bool(small) or few_containers(instance)
            if tiny and not large:
                # (A large instance with few containers holds long arrays of scalars: its
                # walk is bounded below, where _explain would hold the GIL throughout.)
                return explain(locator, self.compiler, instance, location, None, self._errors,
                               limit)
            if locator.selects or not tiny:
                return list(islice(locator.violations(
                    instance, location, None, self._errors, self._pruned_errors, tiny), limit))
        if not large or not (_has_long_array(instance, PRUNED_ITEMS, LONG_ARRAY_DEPTH)
                             if long is None else long):
            return list(islice(self.iter_violations(instance, location=location), limit))
        return list(islice(self._pruned_errors(self._validator, instance, "", location, None),
                           limit))

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
    _check(schema, dialect, spec is not None)
    compiler = compiler_for(spec, dialect, context)
    try:
        validator, root = compiler.build(schema, formats)
    except jsonschema_rs.ValidationError as exc:  # the engine refused the rewritten schema
        raise SpecError(f"invalid schema: {exc.message.splitlines()[0][:200]}") from None
    recursive = compiler.recursive(root) or (spec is None and "$ref" in repr(schema))
    return SchemaValidator(compiler, validator, MAX_INSTANCE_DEPTH if recursive else None, root,
                           formats)


def compile_at(
    spec: Spec,
    pointer: str,
    *,
    context: Context | None,
    formats: dict[str, Callable[[str], bool]] | None = None,
    uri: str | None = None,
    closed: bool = False,
) -> SchemaValidator:
    """Compile the schema found at ``pointer`` of the spec (errors point at its real place);
    ``closed`` refuses undeclared and sensitive properties too (response scanning)."""
    uri = uri or spec.uri
    node: Any = spec.document(uri).content
    for token in split_pointer(pointer):
        node = node[int(token)] if isinstance(node, list) else node[token]
    compiler = compiler_for(spec, spec.schema_dialect, context, closed)
    validator, root = compiler.build(node, formats, origin=(uri, pointer))
    return SchemaValidator(compiler, validator, root=root, formats=formats)


def _check(schema: Any, dialect: Dialect, with_spec: bool) -> None:
    """The load-time checks, for a schema given directly: keywords, nesting, and (for plain
    JSON Schema, whose `#` refs point into the schema itself) $ref cycles and fan-out."""
    stack: list[tuple[str, Any]] = [("", schema)]
    seen: set[int] = set()
    in_place: dict[str, list[str]] = {}
    plain = dialect in ("draft4", "draft2020-12")
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
        edges = in_place.setdefault(pointer, [])
        ref = node.get("$ref")
        if plain and isinstance(ref, str):
            if ref.startswith("#"):
                if _local(schema, unquote(ref[1:])):
                    edges.append(unquote(ref[1:]))
            elif not with_spec and not _has_id(schema, ref.partition("#")[0]):
                remote = "://" in ref
                raise SpecError(
                    f"{'remote ' if remote else ''}reference `{ref[:100]}` refused: "
                    + ("remote references are disabled" if remote else
                       "it is outside the schema (pass `spec=` to resolve it in a spec)"),
                    pointer=join_pointer(pointer, "$ref"))
        for path, child, applies_in_place in subschemas(node):
            child_pointer = join_pointer(pointer, *path)
            if applies_in_place:
                edges.append(child_pointer)
            stack.append((child_pointer, child))
    cycle = find_cycle(in_place)
    if cycle is not None:
        raise SpecError(f"unresolvable $ref cycle {' → '.join(p or '#' for p in cycle)}",
                        pointer=cycle[0])
    heavy = over_budget(in_place)
    if heavy is not None:
        raise SpecError("schema expands to more than "
                        f"{MAX_IN_PLACE_COST:,} in-place evaluations ($ref fan-out)",
                        pointer=heavy)


def _has_id(schema: Any, target: str) -> bool:
    """Whether a subschema declares ``$id`` (or draft-4 ``id``) ending in ``target``."""
    stack = [schema]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            for key in ("$id", "id"):
                value = node.get(key)
                if isinstance(value, str) and target and value.rstrip("#").endswith(target):
                    return True
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return False


def _local(schema: Any, pointer: str) -> bool:
    """Whether ``pointer`` names a subschema of ``schema``."""
    node = schema
    for token in split_pointer(pointer):
        if isinstance(node, dict) and token in node:
            node = node[token]
        elif (isinstance(node, list) and token.isascii() and token.isdigit()
              and int(token) < len(node)):
            node = node[int(token)]
        else:
            return False
    return isinstance(node, (dict, bool))
