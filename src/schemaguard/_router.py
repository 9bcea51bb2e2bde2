"""The router: server base paths, then a trie of path segments.

Paths are percent-decoded once, as UTF-8, before they are split on ``/`` (what Starlette,
Werkzeug and Django do before their own routing, so ``%2F`` makes a new segment here exactly
as it does for the app). Literal segments beat templated ones; a templated segment holding
several parameters (``{kind}-{from}-{to}``) is split left to right at the first occurrence of
each literal separator, in linear time. Matching is per method: a path that matches with
another method answers 405 with ``Allow``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import product
from typing import Any, Generic, TypeVar
from urllib.parse import urlsplit

from .errors import SpecError

T = TypeVar("T")
_PARAM = re.compile(r"\{([^{}/]+)\}")
MAX_SEGMENTS = 128
_MAX_BASE_PATHS = 64


@dataclass(frozen=True, slots=True)
class SegmentTemplate:
    """A path segment with parameters: literals[0] names[0] literals[1] ... literals[-1]."""

    literals: tuple[str, ...]
    names: tuple[str, ...]
    # The parameter's name when the segment is exactly one parameter (`{id}`), else None.
    whole: str | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        if len(self.names) == 1 and not self.literals[0] and not self.literals[1]:
            object.__setattr__(self, "whole", self.names[0])

    @classmethod
    def parse(cls, segment: str, template: str) -> SegmentTemplate:
        literals: list[str] = []
        names: list[str] = []
        position = 0
        for match in _PARAM.finditer(segment):
            literal = segment[position:match.start()]
            if names and not literal:
                raise SpecError(f"path `{template}`: adjacent parameters need a literal "
                                "between them", pointer="/paths")
            literals.append(literal)
            names.append(match.group(1))
            position = match.end()
        literals.append(segment[position:])
        if "{" in "".join(literals) or "}" in "".join(literals):
            raise SpecError(f"path `{template}`: malformed parameter braces", pointer="/paths")
        return cls(tuple(literals), tuple(names))

    @property
    def specificity(self) -> tuple[int, int]:
        return (-sum(len(lit) for lit in self.literals), len(self.names))

    def match(self, value: str) -> dict[str, str] | None:
        """Split ``value`` into the parameters, or None; linear in ``len(value)``."""
        if len(self.names) == 1 and not self.literals[0] and not self.literals[1]:
            return {self.names[0]: value} if value else None  # the common `{id}` segment
        prefix, suffix = self.literals[0], self.literals[-1]
        if not value.startswith(prefix):
            return None
        end = len(value) - len(suffix)
        if end < len(prefix) or not value.endswith(suffix):
            return None
        position = len(prefix)
        captured: dict[str, str] = {}
        last = len(self.names) - 1
        for index, name in enumerate(self.names):
            if index == last:
                if end <= position:
                    return None
                captured[name] = value[position:end]
                break
            separator = self.literals[index + 1]
            found = value.find(separator, position + 1, end)
            if found < 0:
                return None
            captured[name] = value[position:found]
            position = found + len(separator)
        return captured


class Route(Generic[T]):
    """A path template and its operations by (upper-case) method."""

    __slots__ = ("operations", "template")

    def __init__(self, template: str) -> None:
        self.template = template
        self.operations: dict[str, T] = {}

    def __repr__(self) -> str:
        return f"Route(template={self.template!r}, operations={self.operations!r})"

    def operation(self, method: str) -> T | None:
        found = self.operations.get(method)
        if found is None and method == "HEAD":
            return self.operations.get("GET")  # HEAD is GET without a body
        return found

    @property
    def allow(self) -> list[str]:
        methods = set(self.operations)
        if "GET" in methods:
            methods.add("HEAD")
        return sorted(methods)


class _Node(Generic[T]):
    __slots__ = ("literal", "route", "templated")

    def __init__(self) -> None:
        self.literal: dict[str, _Node[T]] = {}
        self.templated: list[tuple[SegmentTemplate, _Node[T]]] = []
        self.route: Route[T] | None = None


class Match(Generic[T]):
    """The outcome of routing one request (read-only; a plain slotted class because one is
    built per request and a frozen dataclass costs several times more to build)."""

    __slots__ = ("allow", "operation", "params", "route")

    def __init__(self, route: Route[T] | None, operation: T | None, params: dict[str, str],
                 allow: tuple[str, ...] = ()) -> None:
        self.route = route
        self.operation = operation
        self.params = params
        self.allow = allow

    def __repr__(self) -> str:
        return (f"Match(route={self.route!r}, operation={self.operation!r}, "
                f"params={self.params!r}, allow={self.allow!r})")


class Router(Generic[T]):
    """Routes decoded request paths to operations."""

    def __init__(self, base_paths: Iterable[str]) -> None:
        self.base_paths = sorted(set(base_paths), key=len, reverse=True)
        self._root: _Node[T] = _Node()
        self._literal: dict[str, Route[T]] = {}  # templates without parameters
        self.routes: list[Route[T]] = []

    def add(self, template: str) -> Route[T]:
        """The route for ``template`` (created on first use)."""
        if not template.startswith("/"):
            raise SpecError(f"path `{template}` must start with `/`", pointer="/paths")
        node = self._root
        for segment in template[1:].split("/"):
            if "{" in segment or "}" in segment:
                parsed = SegmentTemplate.parse(segment, template)
                for existing, child in node.templated:
                    if existing == parsed:
                        node = child
                        break
                else:
                    child = _Node()
                    node.templated.append((parsed, child))
                    node.templated.sort(key=lambda pair: pair[0].specificity)
                    node = child
            else:
                node = node.literal.setdefault(segment, _Node())
        if node.route is None:
            node.route = Route(template)
            self.routes.append(node.route)
            if "{" not in template:
                self._literal[template] = node.route
        return node.route

    def match(self, method: str, path: str) -> Match[T] | None:
        """Route a decoded path; None when no base path or template matches."""
        for base in self.base_paths:
            if path.startswith(base):
                rest = path[len(base):] if base else path
                if rest[:1] == "/":
                    break
        else:
            return None
        route = self._literal.get(rest)
        if route is not None:
            operation = route.operations.get(method) or route.operation(method)
            if operation is not None:
                return Match(route, operation, {})
        segments = rest[1:].split("/")
        if len(segments) > MAX_SEGMENTS:
            return None
        found = self._greedy(segments, method)
        if found is not None:
            return found
        partial: list[Match[T]] = []
        found = self._walk(self._root, segments, 0, method, partial)
        if found is not None:
            return found
        if partial:
            allow = sorted({m for p in partial if p.route for m in p.route.allow})
            return Match(partial[0].route, None, partial[0].params, tuple(allow))
        return None

    def _greedy(self, segments: list[str], method: str) -> Match[T] | None:
        """The usual case without backtracking: literal first, else the first template."""
        node = self._root
        params: dict[str, str] = {}
        for segment in segments:
            child = node.literal.get(segment)
            if child is None:
                for template, candidate in node.templated:
                    if template.whole is not None:  # `{id}`: no split, no dict to merge
                        if segment:
                            params[template.whole] = segment
                            child = candidate
                            break
                        continue
                    captured = template.match(segment)
                    if captured is not None:
                        params.update(captured)
                        child = candidate
                        break
                else:
                    return None
            node = child
        route = node.route
        if route is None:
            return None
        operation = route.operations.get(method) or route.operation(method)
        return None if operation is None else Match(route, operation, params)

    def _walk(
        self, node: _Node[T], segments: list[str], index: int, method: str,
        partial: list[Match[T]],
    ) -> Match[T] | None:
        if index == len(segments):
            route = node.route
            if route is None:
                return None
            operation = route.operation(method)
            if operation is None:
                partial.append(Match(route, None, {}))
                return None
            return Match(route, operation, {})
        segment = segments[index]
        child = node.literal.get(segment)
        if child is not None:
            found = self._walk(child, segments, index + 1, method, partial)
            if found is not None:
                return found
        for template, child in node.templated:
            captured = template.match(segment)
            if captured is None:
                continue
            before = len(partial)
            found = self._walk(child, segments, index + 1, method, partial)
            for item in partial[before:]:
                item.params.update(captured)
            if found is not None:
                found.params.update(captured)
                return found
        return None


def base_paths(servers: Any) -> list[str]:
    """The path prefixes of a spec's servers (variables expanded with default and enum)."""
    if not isinstance(servers, list) or not servers:
        return [""]
    paths: list[str] = []
    for server in servers:
        if not isinstance(server, dict) or not isinstance(server.get("url"), str):
            continue
        url: str = server["url"]
        variables = server.get("variables") or {}
        names = _PARAM.findall(url)
        choices: list[list[str]] = []
        for name in names:
            variable = variables.get(name) if isinstance(variables, dict) else None
            values: list[str] = []
            if isinstance(variable, dict):
                if isinstance(variable.get("default"), str):
                    values.append(variable["default"])
                values += [v for v in variable.get("enum") or [] if isinstance(v, str)]
            choices.append(list(dict.fromkeys(values)) or [""])
        for combination in list(product(*choices))[:_MAX_BASE_PATHS]:
            expanded = url
            for name, value in zip(names, combination, strict=True):
                expanded = expanded.replace("{" + name + "}", value)
            path = urlsplit(expanded).path if "://" in expanded else expanded.split("?")[0]
            paths.append("/" + path.strip("/") if path.strip("/") else "")
    return paths or [""]
