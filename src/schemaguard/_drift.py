"""Traffic drift: what requests and responses show that the spec does not say.

A ``DriftRecorder`` given to a guard (``drift=``) counts, in bounded memory, undocumented
paths and methods, undeclared request and response media types, undeclared response statuses,
undeclared properties (their names only, array indexes folded to ``*``), undeclared query
parameters, and which declared parameters were ever sent. It records names and counts, never
values: path segments that look like identifiers or tokens become ``{id}``. ``schemaguard
drift SPEC RECORDING`` turns a saved recording into a report and a JSON Patch for the spec.
"""

from __future__ import annotations

import atexit
import json
import os
import re
import threading
import time
from collections import Counter
from typing import Any

from ._source import join_pointer, split_pointer

FORMAT = "schemaguard-drift/1"
_ID = re.compile(r"^(?:[0-9]+|[0-9a-fA-F-]{16,}|[A-Za-z0-9_-]{24,}|.*[0-9].*[0-9].*[0-9].*)$")
_KINDS = ("unknown_paths", "unknown_methods", "request_media_types", "response_statuses",
          "response_media_types", "request_properties", "response_properties",
          "unknown_query_parameters", "parameters_sent", "operations_seen")


def normalize_path(path: str) -> str:
    """A raw path with identifier-like segments folded to ``{id}`` (bounded, value-free)."""
    segments = []
    for segment in path.split("?", 1)[0].split("/")[:16]:
        if segment and _ID.match(segment):
            segment = "{id}"
        segments.append(segment[:48])
    return "/".join(segments) or "/"


def fold_pointer(pointer: str) -> str:
    """``/items/3/secret`` -> ``/items/*/secret``: names only, no positions."""
    return join_pointer("", *("*" if t.isdigit() else t[:64] for t in split_pointer(pointer)))


class DriftRecorder:
    """Counts of what the traffic shows and the spec does not say (thread-safe, bounded).

    ``path``: where ``save()`` writes by default; with a path, the recording is also saved
    every ``interval`` seconds while traffic flows and when the process exits.
    """

    def __init__(self, path: str | os.PathLike[str] | None = None, *,
                 max_entries: int = 1_000, interval: float = 60.0) -> None:
        self.path = os.fspath(path) if path is not None else None
        self.max_entries = max_entries
        self.interval = interval
        self._lock = threading.Lock()
        self._counts: dict[str, Counter[str]] = {kind: Counter() for kind in _KINDS}
        self._saved = time.monotonic()
        if self.path is not None:
            atexit.register(self.save)

    def add(self, kind: str, key: str, count: int = 1) -> None:
        with self._lock:
            counter = self._counts[kind]
            if key in counter or len(counter) < self.max_entries:
                counter[key] += count
            due = self.path is not None and time.monotonic() - self._saved > self.interval
        if due:
            self.save()

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {"format": FORMAT,
                    **{kind: dict(counter.most_common()) for kind, counter in
                       self._counts.items()}}

    def save(self, path: str | os.PathLike[str] | None = None) -> None:
        """Write the recording as JSON (atomically: a reader never sees half a file)."""
        target = os.fspath(path) if path is not None else self.path
        if target is None:
            raise ValueError("no path to save the drift recording to")
        data = json.dumps(self.snapshot(), indent=1, sort_keys=True)
        partial = f"{target}.{os.getpid()}.tmp"
        with open(partial, "w", encoding="utf-8") as out:
            out.write(data)
        os.replace(partial, target)
        self._saved = time.monotonic()


def load_recording(path: str | os.PathLike[str]) -> dict[str, dict[str, int]]:
    """A saved recording; ValueError when the file is not one."""
    with open(path, encoding="utf-8") as source:
        try:
            data = json.load(source)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{os.fspath(path)}: not JSON: {exc}") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ValueError(f"{os.fspath(path)}: not a schemaguard drift recording")
    return {kind: {str(k): int(v) for k, v in (data.get(kind) or {}).items()}
            for kind in _KINDS}


# -- the report -----------------------------------------------------------------------------------

_TITLES = {
    "unknown_paths": "Undocumented paths",
    "unknown_methods": "Undeclared methods on documented paths",
    "request_media_types": "Undeclared request media types",
    "response_statuses": "Undeclared response statuses",
    "response_media_types": "Undeclared response media types",
    "request_properties": "Undeclared request body properties",
    "response_properties": "Undeclared response body properties",
    "unknown_query_parameters": "Undeclared query parameters",
}
_METHODS = frozenset({"GET", "PUT", "POST", "DELETE", "OPTIONS", "HEAD", "PATCH", "TRACE"})


def operation_pointer(label: str) -> str | None:
    """The spec pointer of the operation a drift label names ("GET /pets/{id}")."""
    method, _, template = label.partition(" ")
    if method not in _METHODS or not template.startswith("/"):
        return None
    return join_pointer("/paths", template, method.lower())


class Report:
    """A recording read against a spec: readable lines and a JSON Patch (RFC 6902)."""

    def __init__(self, spec: Any, recording: dict[str, dict[str, int]],
                 parameters: dict[str, list[str]], base_paths: list[str],
                 covered: Any = None) -> None:
        """``covered(kind, key)``: whether the spec says it now (a recording made against an
        older spec); such entries are not drift any more."""
        self.spec = spec
        self.covered = covered or (lambda kind, key: False)
        self.recording = recording
        self.parameters = parameters  # "METHOD /template" -> ["query:limit", ...]
        self.base_paths = sorted(base_paths, key=len, reverse=True)
        self.patch: list[dict[str, Any]] = []
        self._added: set[str] = set()
        self.drifts = 0

    # -- lines --------------------------------------------------------------------------------

    def lines(self) -> list[str]:
        out: list[str] = []
        for kind, title in _TITLES.items():
            entries = {k: v for k, v in (self.recording.get(kind) or {}).items()
                       if not self.covered(kind, k)}
            if not entries:
                continue
            out.append(f"{title}:")
            for key, count in sorted(entries.items()):
                self.drifts += 1
                out.append(f"  {key}  ({count}x)")
                self._propose(kind, key, count)
            out.append("")
        seen = self.recording.get("operations_seen") or {}
        sent = self.recording.get("parameters_sent") or {}
        never = [(label, name) for label, names in self.parameters.items() if label in seen
                 for name in names if f"{label} {name}" not in sent]
        if never:
            out.append("Declared parameters never sent (operations with traffic):")
            for label, name in never:
                self.drifts += 1
                location, _, pname = name.partition(":")
                out.append(f"  {label}  {location} `{pname}`  ({seen[label]} requests)")
            out.append("")
        quiet = [label for label in self.parameters if label not in seen]
        if quiet:
            out.append(f"Operations without traffic in this recording: {len(quiet)}")
            out.append("")
        out.append(f"{self.drifts} drift{'s' if self.drifts != 1 else ''}; the proposed patch "
                   f"has {len(self.patch)} operation{'s' if len(self.patch) != 1 else ''}")
        return out

    # -- the patch ----------------------------------------------------------------------------

    def _add(self, pointer: str, value: Any) -> None:
        """An `add`, creating missing parents first (once each)."""
        tokens = split_pointer(pointer)
        node = self.spec
        for depth, token in enumerate(tokens[:-1]):
            if isinstance(node, dict) and token in node:
                node = node[token]
                continue
            parent = join_pointer("", *tokens[:depth + 1])
            if parent not in self._added:
                self._added.add(parent)
                nested: Any = value
                for inner in reversed(tokens[depth + 1:]):
                    nested = {inner: nested}
                self.patch.append({"op": "add", "path": parent, "value": nested})
            return
        if pointer not in self._added:
            self._added.add(pointer)
            self.patch.append({"op": "add", "path": pointer, "value": value})

    def _propose(self, kind: str, key: str, count: int) -> None:
        todo = f"TODO: seen {count} times in traffic, not in the spec"
        if kind == "unknown_paths":
            method, _, path = key.partition(" ")
            for base in self.base_paths:
                if base and path.startswith(base):
                    path = path[len(base):] or "/"
                    break
            names = [f"id{i}" for i in range(1, path.count("{id}") + 1)]
            for name in names:
                path = path.replace("{id}", "{" + name + "}", 1)
            operation: dict[str, Any] = {"summary": todo,
                                         "responses": {"default": {"description": "TODO"}}}
            if names:
                operation["parameters"] = [{"name": n, "in": "path", "required": True,
                                            "schema": {"type": "string"}} for n in names]
            if method in _METHODS:
                self._add(join_pointer("/paths", path, method.lower()), operation)
            return
        if kind == "unknown_methods":
            pointer = operation_pointer(key)
            if pointer is not None:
                self._add(pointer, {"summary": todo,
                                    "responses": {"default": {"description": "TODO"}}})
            return
        label, _, rest = key.rpartition(" ") if kind in (
            "request_media_types", "unknown_query_parameters") else (key, "", "")
        if kind == "request_media_types":
            pointer = operation_pointer(label)
            if pointer is not None:
                body = self._resolved(join_pointer(pointer, "requestBody"))
                self._add(join_pointer(body, "content", rest), {})
        elif kind == "unknown_query_parameters":
            pointer = operation_pointer(label)
            if pointer is not None:
                self._add(join_pointer(pointer, "parameters", "-"), {
                    "name": rest, "in": "query", "description": todo,
                    "schema": {"type": "string"}})
        elif kind in ("response_statuses", "response_media_types", "response_properties"):
            parts = key.split(" ")
            label, status, extra = " ".join(parts[:2]), parts[2], " ".join(parts[3:])
            pointer = operation_pointer(label)
            if pointer is None:
                return
            at = self._resolved(join_pointer(pointer, "responses", status))
            if kind == "response_statuses":
                self._add(at, {"description": todo})
            elif kind == "response_media_types":
                self._add(join_pointer(at, "content", extra), {})
            else:
                self._property(at, extra, todo)
        elif kind == "request_properties":
            parts = key.split(" ")
            label, pointer_text = " ".join(parts[:2]), " ".join(parts[2:])
            pointer = operation_pointer(label)
            if pointer is not None:
                self._property(self._resolved(join_pointer(pointer, "requestBody")),
                               pointer_text, todo)

    def declares_property(self, holder: str, folded: str) -> bool:
        """Whether the schema under ``holder`` (a requestBody or response) declares the
        property at ``folded`` (through local $refs, items, properties and allOf)."""
        return self._property(self._resolved(holder), folded, None)

    def _resolved(self, pointer: str) -> str:
        """``pointer``, or where the local $ref found there leads (a response or request
        body defined in components)."""
        node: Any = self.spec
        for token in split_pointer(pointer):
            node = node.get(token) if isinstance(node, dict) else None
        return self._follow(pointer, node)[0] if node is not None else pointer

    def _property(self, holder: str, folded: str, todo: str | None) -> bool:
        """Add an undeclared property to the schema it belongs in, when that schema can be
        found in the root document (following local $refs, items and properties); with
        ``todo`` None, only say whether it is declared there already."""
        node: Any = self.spec
        for token in split_pointer(holder):
            node = node.get(token) if isinstance(node, dict) else None
        content = node.get("content") if isinstance(node, dict) else None
        if not isinstance(content, dict):
            return False
        media = next((m for k, m in content.items() if "json" in k), None)
        if not isinstance(media, dict) or "schema" not in media:
            return False
        key = next(k for k, m in content.items() if m is media)
        at = join_pointer(holder, "content", key, "schema")
        schema = media["schema"]
        tokens = split_pointer(folded)
        for i, token in enumerate(tokens):
            at, schema = self._follow(at, schema)
            if not isinstance(schema, dict):
                return False
            last = i == len(tokens) - 1
            if token == "*":
                at, schema = join_pointer(at, "items"), schema.get("items")
                continue
            declared = self._declared(at, schema, token)
            if last:
                if declared is not None:
                    return True
                if todo is not None:
                    self._add(join_pointer(at, "properties", token), {"description": todo})
                return False
            if declared is None:
                return False
            at, schema = declared
        return False

    def _declared(self, at: str, schema: dict[str, Any], name: str) -> tuple[str, Any] | None:
        """Where ``schema`` (or one of its allOf members) declares property ``name``."""
        if name in (schema.get("properties") or {}):
            return join_pointer(at, "properties", name), schema["properties"][name]
        for i, member in enumerate(schema.get("allOf") or []):
            m_at, m_schema = self._follow(join_pointer(at, "allOf", i), member)
            if isinstance(m_schema, dict):
                found = self._declared(m_at, m_schema, name)
                if found is not None:
                    return found
        return None

    def _follow(self, at: str, schema: Any) -> tuple[str, Any]:
        for _ in range(16):
            if not isinstance(schema, dict) or not isinstance(schema.get("$ref"), str) or \
                    not schema["$ref"].startswith("#/"):
                return at, schema
            at = schema["$ref"][1:]
            node: Any = self.spec
            for token in split_pointer(at):
                node = node.get(token) if isinstance(node, dict) else None
            schema = node
        return at, schema
