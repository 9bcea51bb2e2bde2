"""Hostile specs, loading and compiling: bad-inputs.md §5 rows S01-S14, S15/S16 runtime, S18-S21.

The rule under test: reading a spec never runs code, never touches the network, never reads files
outside the spec's root, and is bounded in time and memory; a malformed spec is a ``SpecError``
(with a JSON pointer and, for files, a line) at load/compile time, never an exception at
validation time. The ``check`` linter column of the table is tested elsewhere.

Process-level side effects (opening files, sockets, spawning commands) are observed with a
``sys.audit`` hook that records only while a ``_watch()`` block is active.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
import threading
import time
import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

import schemaguard as sg

# -- helpers --------------------------------------------------------------------------------------

INFO = {"title": "t", "version": "1"}
# Line numbers used below: `components:` is line 4, `schemas:` line 5, the first schema name
# line 6, its first member line 7.
HEADER = "openapi: 3.1.0\ninfo: {title: t, version: '1'}\npaths: {}\ncomponents:\n  schemas:\n"
HEADER_30 = HEADER.replace("3.1.0", "3.0.3")


def spec(schemas: dict[str, Any] | None = None, version: str = "3.1.0", **extra: Any) -> dict:
    doc: dict[str, Any] = {"openapi": version, "info": INFO, "paths": {}}
    if schemas is not None:
        doc["components"] = {"schemas": schemas}
    doc.update(extra)
    return doc


def load_error(source: Any, **kwargs: Any) -> sg.SpecError:
    """The SpecError ``load_spec(source)`` raises (any other exception fails the test)."""
    with pytest.raises(sg.SpecError) as info:
        sg.load_spec(source, **kwargs)
    return info.value


def compile_error(schema: Any, **kwargs: Any) -> sg.SpecError:
    with pytest.raises(sg.SpecError) as info:
        sg.compile_schema(schema, **kwargs)
    return info.value


def component(loaded: sg.Spec, name: str, **kwargs: Any) -> sg.SchemaValidator:
    """A validator for ``#/components/schemas/<name>`` of a loaded spec."""
    ref = "#/components/schemas/" + name.replace("~", "~0").replace("/", "~1")
    return sg.compile_schema({"$ref": ref}, dialect=loaded.dialect, spec=loaded, **kwargs)


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def run_isolated(code: str, timeout: float) -> subprocess.CompletedProcess[str] | None:
    """Run ``code`` in a fresh interpreter (address space capped at 2 GiB); None on timeout.

    Used where the current behaviour hangs, exhausts memory or crashes the interpreter.
    """
    prelude = (
        "import resource\n"
        "resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))\n"
    )
    try:
        return subprocess.run(
            [sys.executable, "-c", prelude + textwrap.dedent(code)],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return None


# -- side-effect recorder (sys.audit) -------------------------------------------------------------

_NETWORK = frozenset({"socket.connect", "socket.getaddrinfo", "socket.gethostbyname",
                      "urllib.Request", "http.client.connect"})
_PROCESS = frozenset({"os.system", "subprocess.Popen", "os.posix_spawn", "os.fork",
                      "os.forkpty", "pty.spawn", "os.startfile"})
_recording: list[tuple[str, tuple[Any, ...]]] | None = None


def _audit(event: str, args: tuple[Any, ...]) -> None:
    events = _recording
    if events is None:
        return
    if (event == "open" or event in _NETWORK or event in _PROCESS
            or event.startswith(("os.exec", "os.spawn"))):
        events.append((event, args))


sys.addaudithook(_audit)


@contextmanager
def _watch() -> Iterator[list[tuple[str, tuple[Any, ...]]]]:
    global _recording
    events: list[tuple[str, tuple[Any, ...]]] = []
    _recording = events
    try:
        yield events
    finally:
        _recording = None


def _opened(events: list[tuple[str, tuple[Any, ...]]]) -> set[str]:
    paths = set()
    for event, args in events:
        if event == "open" and isinstance(args[0], (str, bytes, os.PathLike)):
            paths.add(os.path.realpath(os.fsdecode(args[0])))
    return paths


def _network(events: list[tuple[str, tuple[Any, ...]]]) -> list[str]:
    return [event for event, _ in events if event in _NETWORK]


def _processes(events: list[tuple[str, tuple[Any, ...]]]) -> list[str]:
    return [event for event, _ in events
            if event in _PROCESS or event.startswith(("os.exec", "os.spawn"))]


# -- S01: legit recursive schemas -----------------------------------------------------------------

NODE = {"type": "object",
        "properties": {"children": {"type": "array",
                                    "items": {"$ref": "#/components/schemas/Node"}}}}


def _tree(depth: int, leaf: Any) -> Any:
    node = leaf
    for _ in range(depth):
        node = {"children": [node]}
    return node


@pytest.mark.parametrize("version", ["3.1.0", "3.0.3"], ids=["oas31", "oas30"])
def test_s01_recursive_schema_loads_and_validates_nested_instances(version: str) -> None:
    loaded = sg.load_spec(spec({"Node": NODE}, version))
    validator = component(loaded, "Node")
    assert validator.is_valid(_tree(50, {}))
    assert validator.is_valid({"children": []})
    assert not validator.is_valid(_tree(50, 1))
    violations = list(validator.iter_violations(_tree(3, 1)))
    assert [(v.pointer, v.keyword) for v in violations] == [
        ("/children/0/children/0/children/0", "type")
    ]
    assert violations[0].schema_pointer == "/components/schemas/Node/type"


def test_s01_direct_compile_with_dialect_oas31() -> None:
    loaded = sg.load_spec(spec({"Node": NODE}))
    validator = sg.compile_schema({"$ref": "#/components/schemas/Node"}, dialect="oas31",
                                  spec=loaded)
    assert validator.is_valid(_tree(10, {"children": []}))
    assert not validator.is_valid({"children": {}})


def test_s01_mutual_and_allof_recursion_load_and_validate() -> None:
    schemas = {
        "A": {"type": "object", "properties": {"b": {"$ref": "#/components/schemas/B"}}},
        "B": {"type": "object", "properties": {"a": {"$ref": "#/components/schemas/A"}},
              "required": ["a"]},
        "Base": {"type": "object", "required": ["name"],
                 "properties": {"name": {"type": "string"}}},
        "Tree": {"allOf": [{"$ref": "#/components/schemas/Base"}],
                 "properties": {"kids": {"type": "array",
                                         "items": {"$ref": "#/components/schemas/Tree"}}}},
    }
    loaded = sg.load_spec(spec(schemas))
    pair = component(loaded, "A")
    assert pair.is_valid({"b": {"a": {"b": {"a": {}}}}})
    assert [v.pointer for v in pair.iter_violations({"b": {"a": {"b": {}}}})] == ["/b/a/b/a"]
    tree = component(loaded, "Tree")
    assert tree.is_valid({"name": "r", "kids": [{"name": "k", "kids": [{"name": "l"}]}]})
    assert [v.pointer for v in tree.iter_violations({"name": "r", "kids": [{"kids": []}]})] == [
        "/kids/0/name"
    ]


def test_s01_deep_instance_against_recursive_schema_does_not_crash() -> None:
    result = run_isolated(
        f"""
        import schemaguard as sg
        doc = {spec({"Node": NODE})!r}
        validator = sg.compile_schema({{"$ref": "#/components/schemas/Node"}}, dialect="oas31",
                                      spec=sg.load_spec(doc))
        instance = {{}}
        for _ in range(100_000):
            instance = {{"children": [instance]}}
        try:
            validator.is_valid(instance)
        except Exception:
            pass  # refusing the instance is fine; killing the process is not
        print("survived")
        """,
        timeout=20,
    )
    assert result is not None, "timed out"
    assert result.returncode == 0, f"interpreter died with {result.returncode}"
    assert result.stdout.strip() == "survived"


# -- S02: $ref cycles with no structure -----------------------------------------------------------

S = "#/components/schemas/"


@pytest.mark.parametrize(
    ("schemas", "version", "cycles", "pointers"),
    [
        ({"A": {"$ref": S + "B"}, "B": {"$ref": S + "A"}}, "3.1.0",
         ("A → B → A", "B → A → B"), ("/components/schemas/A", "/components/schemas/B")),
        ({"A": {"$ref": S + "B"}, "B": {"$ref": S + "A"}}, "3.0.3",
         ("A → B → A", "B → A → B"), ("/components/schemas/A", "/components/schemas/B")),
        ({"X": {"allOf": [{"$ref": S + "X"}]}}, "3.1.0",
         ("X → X",), ("/components/schemas/X",)),
        ({"A": {"$ref": S + "A"}}, "3.1.0", ("A → A",), ("/components/schemas/A",)),
        ({"A": {"anyOf": [{"$ref": S + "B"}]}, "B": {"not": {"$ref": S + "A"}}}, "3.1.0",
         ("A → B → A", "B → A → B"), ("/components/schemas/A", "/components/schemas/B")),
        ({"A": {"oneOf": [{"type": "string"}, {"$ref": S + "B"}]},
          "B": {"allOf": [{"$ref": S + "A"}]}}, "3.0.3",
         ("A → B → A", "B → A → B"), ("/components/schemas/A", "/components/schemas/B")),
        ({"A": {"if": {"$ref": S + "A"}}}, "3.1.0", ("A → A",), ("/components/schemas/A",)),
        ({"A": {"dependentSchemas": {"x": {"$ref": S + "A"}}}}, "3.1.0",
         ("A → A",), ("/components/schemas/A",)),
    ],
    ids=["A-B-A", "A-B-A-oas30", "X-allOf-X", "self-ref", "anyOf-not", "oneOf-allOf-oas30",
         "if-self", "dependentSchemas-self"],
)
def test_s02_in_place_ref_cycle_is_refused_and_named(
    schemas: dict[str, Any], version: str, cycles: tuple[str, ...], pointers: tuple[str, ...]
) -> None:
    error = load_error(spec(schemas, version))
    assert "unresolvable $ref cycle" in error.message
    assert any(cycle in error.message for cycle in cycles), error.message
    assert error.pointer in pointers


def test_s02_cycle_across_files_is_refused_with_location(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", "A:\n  $ref: 'b.yaml#/B'\n")
    write(tmp_path, "b.yaml", "B:\n  allOf:\n    - $ref: 'a.yaml#/A'\n")
    root = write(tmp_path, "openapi.yaml", HEADER + "    Root:\n      $ref: 'a.yaml#/A'\n")
    error = load_error(root)
    assert "a.yaml#/A → b.yaml#/B → a.yaml#/A" in error.message
    assert error.file is not None
    assert Path(error.file).resolve() == (tmp_path / "a.yaml").resolve()
    assert (error.pointer, error.line) == ("/A", 1)


def test_s02_self_cycle_in_file_has_line(tmp_path: Path) -> None:
    root = write(tmp_path, "openapi.yaml",
                 HEADER + "    Root:\n      $ref: '#/components/schemas/Root'\n")
    error = load_error(root)
    assert "Root → Root" in error.message
    assert (error.pointer, error.line) == ("/components/schemas/Root", 6)


@pytest.mark.parametrize(
    ("extra", "pointers"),
    [
        ({"paths": {"/a": {"get": {"parameters": [{"$ref": "#/components/parameters/P1"}],
                                   "responses": {}}}},
          "components": {"parameters": {"P1": {"$ref": "#/components/parameters/P2"},
                                        "P2": {"$ref": "#/components/parameters/P1"}}}},
         ("/components/parameters/P1", "/components/parameters/P2")),
        ({"paths": {"/a": {"$ref": "#/paths/~1b"}, "/b": {"$ref": "#/paths/~1a"}}},
         ("/paths/~1a", "/paths/~1b")),
        ({"paths": {"/a": {"get": {"responses": {"200": {"$ref": "#/components/responses/R"}}}}},
          "components": {"responses": {"R": {"$ref": "#/components/responses/R"}}}},
         ("/components/responses/R",)),
    ],
    ids=["parameters", "path-items", "response-self"],
)
def test_s02_reference_object_cycles_are_refused(
    extra: dict[str, Any], pointers: tuple[str, ...]
) -> None:
    error = load_error({"openapi": "3.1.0", "info": INFO, "paths": {}, **extra})
    assert "cycle" in error.message
    assert error.pointer in pointers




@pytest.mark.parametrize(
    ("schema", "dialect"),
    [
        pytest.param({"$defs": {"A": {"$ref": "#/$defs/B"}, "B": {"$ref": "#/$defs/A"}},
                      "$ref": "#/$defs/A"}, "draft2020-12",
                     id="defs-A-B-A-draft2020-12"),
        pytest.param({"definitions": {"A": {"$ref": "#/definitions/B"},
                                      "B": {"$ref": "#/definitions/A"}},
                      "$ref": "#/definitions/A"}, "draft4",
                     id="definitions-A-B-A-draft4"),
        pytest.param({"$ref": "#"}, "draft2020-12",
                     id="root-self-ref-draft2020-12"),
    ],
)
def test_s02_in_place_cycle_in_compile_schema_is_refused(
    schema: dict[str, Any], dialect: str
) -> None:
    error = compile_error(schema, dialect=dialect)
    assert "cycle" in error.message


@pytest.mark.parametrize("dialect", ["oas30", "oas31"])
def test_s02_local_ref_without_spec_is_refused_in_oas_dialects(dialect: str) -> None:
    error = compile_error({"$defs": {"A": {"$ref": "#/$defs/B"}, "B": {"$ref": "#/$defs/A"}},
                           "$ref": "#/$defs/A"}, dialect=dialect)
    assert "without a spec" in error.message


# -- S03 / S05: remote references (SSRF) ----------------------------------------------------------


class Listener:
    """A loopback TCP server that counts the connections it accepts."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.server.settimeout(0.05)
        self.port: int = self.server.getsockname()[1]
        self.hits = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.hits += 1
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self.server.close()


@pytest.fixture
def listener() -> Iterator[Listener]:
    server = Listener()
    try:
        yield server
    finally:
        server.close()


def test_s03_listener_counts_connections(listener: Listener) -> None:
    """Control: the listener used below does see a connection when one is made."""
    with socket.create_connection(("127.0.0.1", listener.port), timeout=2):
        pass
    deadline = time.monotonic() + 2
    while listener.hits == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert listener.hits == 1


def _remote_cases(url: str) -> list[tuple[dict[str, Any], str]]:
    return [
        (spec({"R": {"$ref": url + "/x"}}), "/components/schemas/R/$ref"),
        (spec({"R": {"type": "object", "properties": {"p": {"$ref": url + "/x#/p"}}}}),
         "/components/schemas/R/properties/p/$ref"),
        (spec(paths={"/a": {"$ref": url + "/item"}}), "/paths/~1a/$ref"),
        (spec(paths={"/a": {"get": {"parameters": [{"$ref": url + "/p"}], "responses": {}}}}),
         "/paths/~1a/get/parameters/0/$ref"),
        (spec(paths={"/a": {"get": {"responses": {"200": {"$ref": url + "/r"}}}}}),
         "/paths/~1a/get/responses/200/$ref"),
        (spec(paths={"/a": {"post": {"requestBody": {"$ref": url.replace("http:", "https:")
                                                      + "/b"}, "responses": {}}}}),
         "/paths/~1a/post/requestBody/$ref"),
        (spec({"D": {"oneOf": [{"$ref": S + "C"}],
                     "discriminator": {"propertyName": "k", "mapping": {"c": url + "/c"}}},
               "C": {"type": "object"}}),
         "/components/schemas/D/discriminator/mapping/c"),
        (spec(webhooks={"w": {"$ref": url + "/w"}}), "/webhooks/w/$ref"),
        (spec({"R": {"$ref": url.replace("http:", "HTTP:") + "/x"}}),
         "/components/schemas/R/$ref"),
    ]


_REMOTE_IDS = ["schema", "nested-schema", "path-item", "parameter", "response", "request-body",
               "discriminator-mapping", "webhook", "upper-case-scheme"]


@pytest.mark.parametrize("case", range(len(_REMOTE_IDS)), ids=_REMOTE_IDS)
def test_s03_remote_ref_is_refused_without_network_io(listener: Listener, case: int) -> None:
    doc, pointer = _remote_cases(f"http://127.0.0.1:{listener.port}")[case]
    with _watch() as events:
        error = load_error(doc)
    assert "remote reference" in error.message
    assert "disabled" in error.message
    assert error.pointer == pointer
    assert _network(events) == []
    assert listener.hits == 0


def test_s03_remote_ref_in_file_has_line_and_no_network_io(
    listener: Listener, tmp_path: Path
) -> None:
    url = f"http://127.0.0.1:{listener.port}/latest/meta-data/"
    root = write(tmp_path, "openapi.yaml", HEADER + f"    R:\n      $ref: '{url}'\n")
    with _watch() as events:
        error = load_error(root)
    assert "remote reference" in error.message
    assert (error.pointer, error.line, error.column) == ("/components/schemas/R/$ref", 7, 7)
    assert _network(events) == []
    assert listener.hits == 0


def test_s03_scheme_relative_ref_is_not_fetched(listener: Listener, tmp_path: Path) -> None:
    # `//host:port/x` has no scheme: it resolves against the file URI and points outside root.
    root = write(tmp_path, "openapi.yaml",
                 HEADER + f"    R:\n      $ref: '//127.0.0.1:{listener.port}/x'\n")
    with _watch() as events:
        error = load_error(root)
    assert (error.pointer, error.line) == ("/components/schemas/R/$ref", 7)
    assert _network(events) == []
    assert listener.hits == 0


@pytest.mark.parametrize("dialect", ["draft2020-12", "draft4", "oas30", "oas31"])
def test_s03_remote_ref_in_compile_schema_is_refused_without_network_io(
    listener: Listener, dialect: str
) -> None:
    url = f"http://127.0.0.1:{listener.port}/x"
    loaded = sg.load_spec(spec({}))
    with _watch() as events:
        plain = compile_error({"$ref": url}, dialect=dialect)
        nested = compile_error({"properties": {"a": {"$ref": url}}}, dialect=dialect)
        with_spec = compile_error({"$ref": url}, dialect=dialect, spec=loaded)
    for error in (plain, nested):
        assert url in error.message
    assert "remote reference" in with_spec.message
    # The exact pointer is pinned by test_compile_schema_ref_errors_point_into_the_given_schema.
    assert with_spec.pointer.endswith("/$ref")
    assert _network(events) == []
    assert listener.hits == 0


def test_s03_retrieve_callable_gets_the_uri_and_its_mapping_is_used(listener: Listener) -> None:
    # S05: with `retrieve=` fetching is opted in and the fetch policy (allowlist, redirects) is
    # the caller's; schemaguard itself still opens no connection (asserted here and above).
    url = f"http://127.0.0.1:{listener.port}/x"
    calls: list[str] = []

    def retrieve(uri: str) -> dict[str, Any]:
        calls.append(uri)
        return {"defs": {"Remote": {"type": "string", "maxLength": 3}}}

    with _watch() as events:
        loaded = sg.load_spec(spec({"R": {"$ref": url + "#/defs/Remote"}}), retrieve=retrieve)
        validator = component(loaded, "R")
    assert calls == [url]
    assert validator.is_valid("abc")
    assert not validator.is_valid("abcd")
    assert not validator.is_valid(1)
    assert _network(events) == []
    assert listener.hits == 0


def test_s03_retrieve_failure_is_a_spec_error_without_its_text() -> None:
    def retrieve(uri: str) -> dict[str, Any]:
        raise OSError("token=s3cr3t-7f3a")

    error = load_error(spec({"R": {"$ref": "http://h.invalid/s.json#/X"}}), retrieve=retrieve)
    assert "cannot retrieve" in error.message
    assert "s3cr3t" not in str(error)
    assert error.pointer == "/components/schemas/R/$ref"


def test_s03_retrieved_text_is_read_with_the_safe_loader(tmp_path: Path) -> None:
    marker = tmp_path / "sg_retrieved"

    def retrieve(uri: str) -> str:
        return f'X: !!python/object/apply:os.system ["touch {marker}"]\n'

    with _watch() as events:
        error = load_error(spec({"R": {"$ref": "http://h.invalid/s.yaml#/X"}}), retrieve=retrieve)
    assert "unsupported YAML tag" in error.message
    assert (error.file, error.line, error.pointer) == ("http://h.invalid/s.yaml", 1, "")
    assert not marker.exists()
    assert _processes(events) == []


# -- S04: local file reads outside the root -------------------------------------------------------

SECRET = "S: {type: string, description: 'root:x:0:0 SECRET-7f3a'}\n"


@pytest.fixture
def jail(tmp_path: Path) -> Path:
    """tmp/root (the spec's root) next to tmp/secret.yaml, plus symlinks out of the root."""
    root = tmp_path / "root"
    root.mkdir()
    write(tmp_path, "secret.yaml", SECRET)
    write(root, "ok.yaml", "S: {type: string, maxLength: 2}\n")
    (root / "link.yaml").symlink_to(tmp_path / "secret.yaml")
    (root / "up").symlink_to(tmp_path, target_is_directory=True)
    return root


def _outside_refs(jail: Path) -> list[str]:
    secret = jail.parent / "secret.yaml"
    return [
        "file:///etc/passwd",
        "file:///etc/passwd#/x",
        "../../../../etc/passwd#/x",
        "/etc/passwd",
        "../secret.yaml#/S",
        "%2e%2e/secret.yaml#/S",
        secret.as_uri() + "#/S",
        "file://localhost" + secret.as_posix() + "#/S",
        "link.yaml#/S",
        "up/secret.yaml#/S",
    ]


_OUTSIDE_IDS = ["file-uri", "file-uri-fragment", "dotdot-etc-passwd", "absolute-path",
                "dotdot-secret", "encoded-dotdot", "absolute-file-uri", "file-localhost",
                "symlinked-file", "symlinked-dir"]


@pytest.mark.parametrize("case", range(len(_OUTSIDE_IDS)), ids=_OUTSIDE_IDS)
def test_s04_ref_outside_root_is_refused_unread_and_unechoed(jail: Path, case: int) -> None:
    ref = _outside_refs(jail)[case]
    root = write(jail, "openapi.yaml", HEADER + f"    P:\n      $ref: '{ref}'\n")
    with _watch() as events:
        error = load_error(root)
    assert "outside the spec's root" in error.message
    assert (error.pointer, error.line, error.column) == ("/components/schemas/P/$ref", 7, 7)
    for text in (error.message, str(error)):
        assert "root:x" not in text
        assert "SECRET-7f3a" not in text
    opened = _opened(events)
    assert "/etc/passwd" not in opened
    assert str((jail.parent / "secret.yaml").resolve()) not in opened


def test_s04_mapping_with_root_refuses_parent_file(jail: Path) -> None:
    with _watch() as events:
        error = load_error(spec({"P": {"$ref": "../secret.yaml#/S"}}), root=jail)
    assert "outside the spec's root" in error.message
    assert error.pointer == "/components/schemas/P/$ref"
    assert "SECRET-7f3a" not in str(error)
    assert str((jail.parent / "secret.yaml").resolve()) not in _opened(events)


def test_s04_ref_inside_root_still_works(jail: Path) -> None:
    """Control: the refusals above are about the root, not about file refs in general."""
    root = write(jail, "openapi.yaml", HEADER + "    P:\n      $ref: 'ok.yaml#/S'\n")
    validator = component(sg.load_spec(root), "P")
    assert validator.is_valid("ab")
    assert not validator.is_valid("abc")


@pytest.mark.parametrize("dialect", ["draft2020-12", "draft4", "oas30", "oas31"])
@pytest.mark.parametrize("ref", ["file:///etc/passwd", "../secret.yaml#/S", "/etc/passwd",
                                 "link.yaml#/S"])
def test_s04_file_ref_in_compile_schema_is_refused_unread(
    jail: Path, ref: str, dialect: str
) -> None:
    loaded = sg.load_spec(write(jail, "openapi.yaml", HEADER + "    Ok: {type: string}\n"))
    with _watch() as events:
        errors = [compile_error({"$ref": ref}, dialect=dialect, spec=loaded)]
        if dialect.startswith("draft"):
            errors.append(compile_error({"$ref": ref}, dialect=dialect))
    assert "outside the spec's root" in errors[0].message
    assert errors[0].pointer.endswith("/$ref")  # exact pointer: tested below
    for error in errors:
        assert "root:x" not in str(error)
        assert "SECRET-7f3a" not in str(error)
    opened = _opened(events)
    assert "/etc/passwd" not in opened
    assert str((jail.parent / "secret.yaml").resolve()) not in opened




@pytest.mark.parametrize(
    ("schema", "dialect", "with_spec", "expected"),
    [
        pytest.param({"$ref": "file:///etc/passwd"}, "oas31", True, "/$ref",
                     id="file-ref-with-spec"),
        pytest.param({"properties": {"a": {"$ref": "#/components/schemas/a'c"}}}, "oas31", True,
                     "/properties/a/$ref", id="missing-quoted-name-with-spec"),
        pytest.param({"$ref": "http://127.0.0.1:9/x"}, "draft2020-12", False, "/$ref",
                     id="remote-ref-plain-draft"),
        pytest.param({"$ref": "#/components/schemas/X"}, "oas31", False, "/$ref",
                     id="local-ref-without-spec"),
    ],
)
def test_compile_schema_ref_errors_point_into_the_given_schema(
    jail: Path, schema: dict[str, Any], dialect: str, with_spec: bool, expected: str
) -> None:
    loaded = sg.load_spec(write(jail, "openapi.yaml", HEADER + "    Ok: {type: string}\n"))
    # Compile something first so that an internal counter cannot coincide with a fresh start.
    sg.compile_schema({"type": "string"}, dialect=dialect, spec=loaded if with_spec else None)
    error = compile_error(schema, dialect=dialect, spec=loaded if with_spec else None)
    assert error.pointer == expected
    if with_spec:
        assert (error.file, error.line) == (None, None)


# -- S06: YAML billion laughs ---------------------------------------------------------------------


def _laughs(levels: int = 9, width: int = 9) -> str:
    lines = ["x-lol:", "  a0: &a0 [" + ", ".join(["lol"] * width) + "]"]
    for i in range(1, levels + 1):
        lines.append(f"  a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * width) + "]")
    return "\n".join(lines) + "\n"


def _laughs_mapping(levels: int = 9, width: int = 9) -> str:
    lines = ["x-lol:", "  a0: &a0 {" + ", ".join(f"k{j}: lol" for j in range(width)) + "}"]
    for i in range(1, levels + 1):
        lines.append(f"  a{i}: &a{i} {{" + ", ".join(f"k{j}: *a{i - 1}" for j in range(width))
                     + "}")
    return "\n".join(lines) + "\n"


_BOMBS = {
    "lists": "openapi: 3.1.0\ninfo: {title: t, version: '1'}\npaths: {}\n" + _laughs(),
    "mappings": "openapi: 3.1.0\ninfo: {title: t, version: '1'}\npaths: {}\n" + _laughs_mapping(),
    "in-enum": "openapi: 3.1.0\ninfo: {title: t, version: '1'}\npaths: {}\n" + _laughs()
    + "components:\n  schemas:\n    E: {enum: *a9}\n",
}


@pytest.mark.parametrize("name", list(_BOMBS), ids=list(_BOMBS))
def test_s06_billion_laughs_is_refused_fast_and_small(tmp_path: Path, name: str) -> None:
    path = write(tmp_path, "bomb.yaml", _BOMBS[name])
    assert path.stat().st_size < 1000
    start = time.perf_counter()
    error = load_error(path)
    elapsed = time.perf_counter() - start
    assert "alias expansion limit" in error.message
    assert error.pointer == ""
    assert elapsed < 1.0
    tracemalloc.start()
    try:
        load_error(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 50 * 2**20


def test_s06_recursive_alias_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "rec.yaml", HEADER + "    A: &a\n      properties: {x: *a}\n")
    error = load_error(path)
    assert "recursive YAML alias" in error.message
    assert error.pointer == ""


def test_s06_modest_aliases_still_load(tmp_path: Path) -> None:
    """Control: ordinary anchors (and 5 levels of 9, ~60k nodes) are not refused."""
    text = (HEADER.replace("components:\n  schemas:\n", "") + _laughs(levels=5)
            + "x-common: &str {type: string, maxLength: 2}\n"
            + "components:\n  schemas:\n    A: *str\n    B: {properties: {b: *str}}\n")
    loaded = sg.load_spec(write(tmp_path, "ok.yaml", text))
    assert component(loaded, "A").is_valid("ab")
    assert not component(loaded, "A").is_valid("abc")
    assert not component(loaded, "B").is_valid({"b": 1})


# -- S07: unsafe YAML tags ------------------------------------------------------------------------

_TAGS = {
    "object-apply-os-system": '!!python/object/apply:os.system ["touch {m}"]',
    "object-new-os-system": '!!python/object/new:os.system ["touch {m}"]',
    "name": "!!python/name:os.system",
    "module": "!!python/module:os",
    "subprocess": "!!python/object/apply:subprocess.check_output [[touch, {m}]]",
    "verbatim-tag": '!<tag:yaml.org,2002:python/object/apply:os.system> ["touch {m}"]',
    "local-tag": "!custom {a: 1}",
    "yaml11-set": "!!set {a, b}",
    "yaml11-timestamp": "!!timestamp 2001-12-14",
    "yaml11-binary": "!!binary aGVsbG8=",
}


@pytest.mark.parametrize("name", list(_TAGS), ids=list(_TAGS))
def test_s07_unsafe_tag_is_refused_and_runs_nothing(tmp_path: Path, name: str) -> None:
    marker = tmp_path / "sg"
    tag = _TAGS[name].replace("{m}", str(marker))
    path = write(tmp_path, "evil.yaml", HEADER + f"    X:\n      enum:\n        - {tag}\n")
    with _watch() as events:
        error = load_error(path)
    assert "unsupported YAML tag" in error.message
    assert error.pointer in ("", "/components/schemas/X/enum/0")
    assert (error.line, error.column) == (8, 11)
    assert not marker.exists()
    assert _processes(events) == []


def test_s07_unsafe_tag_on_the_version_is_refused(tmp_path: Path) -> None:
    marker = tmp_path / "sg"
    path = write(tmp_path, "evil.yaml",
                 f'openapi: !!python/object/apply:os.system ["touch {marker}"]\n')
    with _watch() as events:
        error = load_error(path)
    assert "unsupported YAML tag" in error.message
    assert error.pointer in ("", "/openapi")
    assert error.line == 1
    assert not marker.exists()
    assert _processes(events) == []


# -- S08: YAML 1.1 implicit typing ----------------------------------------------------------------

S08_YAML = """\
openapi: 3.1.0
info: {title: t, version: 1.10}
paths:
  /a:
    get:
      responses:
        200: {description: ok}
        default: {description: other}
components:
  schemas:
    Flags: {enum: [yes, no, on, off, NO]}
    YesNo: {enum: [yes, no]}
    Day: {enum: [2024-01-01]}
    Keys:
      type: object
      required: [on, off]
      properties:
        on: {type: boolean}
        off: {type: boolean}
"""


def test_s08_yaml_is_read_as_yaml_12(tmp_path: Path) -> None:
    loaded = sg.load_spec(write(tmp_path, "openapi.yaml", S08_YAML))
    schemas = loaded.content["components"]["schemas"]
    assert schemas["Flags"]["enum"] == ["yes", "no", "on", "off", "NO"]
    assert all(type(v) is str for v in schemas["Flags"]["enum"])
    assert schemas["Day"]["enum"] == ["2024-01-01"]
    assert list(schemas["Keys"]["properties"]) == ["on", "off"]
    responses = loaded.content["paths"]["/a"]["get"]["responses"]
    assert list(responses) == ["200", "default"]
    # `version: 1.10` stays a YAML float (the lint that flags it is a later issue).
    assert loaded.content["info"]["version"] == 1.1


def test_s08_enum_strings_are_never_booleans(tmp_path: Path) -> None:
    loaded = sg.load_spec(write(tmp_path, "openapi.yaml", S08_YAML))
    yes_no = component(loaded, "YesNo")
    assert yes_no.is_valid("yes")
    assert yes_no.is_valid("no")
    assert not yes_no.is_valid(True)
    assert not yes_no.is_valid(False)
    assert not yes_no.is_valid(1)
    assert component(loaded, "Day").is_valid("2024-01-01")
    keys = component(loaded, "Keys")
    assert keys.is_valid({"on": True, "off": False})
    assert [v.pointer for v in keys.iter_violations({"on": True})] == ["/off"]


def test_s08_compiled_enum_yes_no_from_a_mapping() -> None:
    validator = sg.compile_schema({"enum": ["yes", "no"]}, dialect="oas31")
    assert validator.is_valid("yes")
    assert not validator.is_valid(True)


# -- S09: duplicate keys --------------------------------------------------------------------------

_DUPLICATES = {
    "top-level-paths": (
        "openapi: 3.1.0\ninfo: {title: t, version: '1'}\npaths:\n  /users: {}\n"
        "paths:\n  /users: {}\n", "paths", 5, ("", "/paths")),
    "path": (
        "openapi: 3.1.0\ninfo: {title: t, version: '1'}\npaths:\n  /users: {}\n  /users: {}\n",
        "/users", 5, ("", "/paths/~1users")),
    "property-name": (
        HEADER + "    B:\n      properties:\n        a: {type: string}\n"
        "        a: {type: integer}\n", "a", 9, ("", "/components/schemas/B/properties/a")),
    "response-code-quoted-and-bare": (
        "openapi: 3.1.0\ninfo: {title: t, version: '1'}\npaths:\n  /a:\n    get:\n"
        "      responses:\n        200: {description: a}\n        '200': {description: b}\n",
        "200", 8, ("", "/paths/~1a/get/responses/200")),
    "flow-mapping": (
        "openapi: 3.1.0\ninfo: {title: t, version: '1', title: u}\npaths: {}\n",
        "title", 2, ("", "/info/title")),
}


@pytest.mark.parametrize("name", list(_DUPLICATES), ids=list(_DUPLICATES))
def test_s09_duplicate_yaml_key_is_refused_with_its_line(tmp_path: Path, name: str) -> None:
    text, key, line, pointers = _DUPLICATES[name]
    error = load_error(write(tmp_path, "openapi.yaml", text))
    assert error.message == f"duplicate key `{key}`"
    assert error.line == line
    assert error.pointer in pointers


def test_s09_duplicate_json_key_is_refused(tmp_path: Path) -> None:
    text = ('{"openapi": "3.1.0",\n"info": {"title": "t", "version": "1"},\n'
            '"paths": {},\n"paths": {}\n}\n')
    error = load_error(write(tmp_path, "openapi.json", text))
    assert error.message == "duplicate key `paths`"
    assert error.pointer in ("", "/paths")


# -- S10: exponential $ref fan-out ----------------------------------------------------------------

LAUGH_LEVELS = 30


def _fanout(levels: int = LAUGH_LEVELS) -> dict[str, Any]:
    schemas: dict[str, Any] = {"L0": {"type": "string", "maxLength": 8}}
    for n in range(1, levels + 1):
        ref = {"$ref": f"{S}L{n - 1}"}
        schemas[f"L{n}"] = {"allOf": [ref, dict(ref)]}
    return spec(schemas)


def test_s10_ref_fanout_loads_and_compiles_fast() -> None:
    start = time.perf_counter()
    loaded = sg.load_spec(_fanout())
    validator = component(loaded, f"L{LAUGH_LEVELS}")
    elapsed = time.perf_counter() - start
    assert elapsed < 2.0
    # An instance failing the first leaf is refused without visiting the rest.
    assert not validator.is_valid(1)


def test_s10_small_fanout_validates_correctly() -> None:
    validator = component(sg.load_spec(_fanout(8)), "L8")
    assert validator.is_valid("x")
    assert not validator.is_valid("x" * 9)
    with pytest.raises(sg.SchemaValidationError) as info:
        validator.validate(1)
    assert 1 <= len(info.value.violations) <= 20
    assert {v.keyword for v in info.value.violations} == {"type"}


_FANOUT_CHILD = f"""
    import time
    import schemaguard as sg
    schemas = {{"L0": {{"type": "string", "maxLength": 8}}}}
    for n in range(1, {LAUGH_LEVELS} + 1):
        ref = {{"$ref": f"#/components/schemas/L{{n - 1}}"}}
        schemas[f"L{{n}}"] = {{"allOf": [ref, dict(ref)]}}
    doc = {{"openapi": "3.1.0", "info": {{"title": "t", "version": "1"}}, "paths": {{}},
           "components": {{"schemas": schemas}}}}
    start = time.perf_counter()
    v = sg.compile_schema({{"$ref": "#/components/schemas/L{LAUGH_LEVELS}"}}, dialect="oas31",
                          spec=sg.load_spec(doc))
    CHECK
    assert time.perf_counter() - start < 2.0
    print("ok")
"""


def test_s10_ref_fanout_validates_a_valid_instance_in_bounded_time() -> None:
    result = run_isolated(_FANOUT_CHILD.replace("CHECK", "assert v.is_valid('x')"), timeout=4)
    assert result is not None, "validation of a valid instance did not finish within 4 s"
    assert result.returncode == 0, result.stderr[-500:]
    assert result.stdout.strip() == "ok"


def test_s10_ref_fanout_reports_violations_in_bounded_time() -> None:
    check = (
        "try:\n"
        "        v.validate(1)\n"
        "    except sg.SchemaValidationError as exc:\n"
        "        assert 1 <= len(exc.violations) <= 20\n"
        "    else:\n"
        "        raise AssertionError('1 accepted')"
    )
    result = run_isolated(_FANOUT_CHILD.replace("CHECK", check), timeout=4)
    assert result is not None, "validate(1) did not finish within 4 s"
    assert result.returncode == 0, result.stderr[-500:]
    assert result.stdout.strip() == "ok"


# -- S11: huge spec -------------------------------------------------------------------------------

HUGE_SCHEMAS, HUGE_OPERATIONS = 2_000, 5_000
_METHODS = ("get", "put", "post", "delete", "patch")


def _huge_spec_text() -> str:
    schemas: dict[str, Any] = {}
    for i in range(HUGE_SCHEMAS):
        props: dict[str, Any] = {
            "id": {"type": "integer", "minimum": 0},
            "name": {"type": "string", "maxLength": 64, "pattern": "^[a-z0-9_]+$"},
            "tags": {"type": "array", "maxItems": 10,
                     "items": {"type": "string", "enum": ["a", "b", "c"]}},
        }
        if i:
            props["prev"] = {"$ref": f"{S}S{i - 1}"}
        schemas[f"S{i}"] = {"type": "object", "required": ["id"], "properties": props,
                            "additionalProperties": False}
    paths: dict[str, Any] = {}
    for j in range(HUGE_OPERATIONS // len(_METHODS)):
        item: dict[str, Any] = {}
        for method in _METHODS:
            op: dict[str, Any] = {
                "operationId": f"{method}{j}",
                "parameters": [
                    {"name": "id", "in": "path", "required": True,
                     "schema": {"type": "integer", "format": "int64"}},
                    {"name": "q", "in": "query", "schema": {"type": "string", "maxLength": 10}},
                ],
                "responses": {"200": {"description": "ok", "content": {"application/json": {
                    "schema": {"$ref": f"{S}S{(j * 5) % HUGE_SCHEMAS}"}}}}},
            }
            if method in ("put", "post", "patch"):
                op["requestBody"] = {"content": {"application/json": {
                    "schema": {"$ref": f"{S}S{(j * 7) % HUGE_SCHEMAS}"}}}}
            item[method] = op
        paths[f"/r{j}/{{id}}"] = item
    return json.dumps(spec(schemas, paths=paths))


def test_s11_huge_spec_loads_and_compiles_within_budget(tmp_path: Path) -> None:
    path = write(tmp_path, "huge.json", _huge_spec_text())
    start = time.perf_counter()
    loaded = sg.load_spec(path)
    assert time.perf_counter() - start < 10.0
    assert len(loaded.content["paths"]) * len(_METHODS) == HUGE_OPERATIONS
    start = time.perf_counter()
    last = component(loaded, f"S{HUGE_SCHEMAS - 1}")  # reaches all 2,000 schemas via `prev`
    assert time.perf_counter() - start < 10.0
    assert last.is_valid({"id": 1, "prev": {"id": 2, "prev": {"id": 3, "tags": ["a"]}}})
    assert [v.pointer for v in last.iter_violations({"id": 1, "prev": {"id": "x"}})] == [
        "/prev/id"
    ]


# -- S12: deeply nested schemas -------------------------------------------------------------------

DEPTH = 600


def _nested(keyword_path: tuple[Any, ...], depth: int = DEPTH) -> dict[str, Any]:
    node: Any = {"type": "string"}
    for _ in range(depth):
        wrapped: Any = node
        for token in reversed(keyword_path):
            wrapped = [wrapped] if isinstance(token, int) else {token: wrapped}
        node = wrapped
    return node


_NESTINGS = {
    "properties": ("properties", "a"),
    "items": ("items",),
    "allOf": ("allOf", 0),
    "not": ("not",),
    "additionalProperties": ("additionalProperties",),
}


def _only_repeats(pointer: str, prefix: str, unit: str) -> bool:
    rest = pointer[len(prefix):]
    return pointer.startswith(prefix) and len(rest) > 0 and rest.replace(unit, "") == ""


@pytest.mark.parametrize("name", list(_NESTINGS), ids=list(_NESTINGS))
def test_s12_deep_schema_in_spec_is_refused(name: str) -> None:
    path = _NESTINGS[name]
    unit = "".join(f"/{t}" for t in path)
    error = load_error(spec({"Deep": _nested(path)}))
    assert "nested too deeply" in error.message
    assert _only_repeats(error.pointer, "/components/schemas/Deep", unit), error.pointer


@pytest.mark.parametrize("dialect", ["draft2020-12", "draft4", "oas30", "oas31"])
@pytest.mark.parametrize("name", list(_NESTINGS), ids=list(_NESTINGS))
def test_s12_deep_schema_via_compile_schema_is_refused(name: str, dialect: str) -> None:
    path = _NESTINGS[name]
    unit = "".join(f"/{t}" for t in path)
    error = compile_error(_nested(path), dialect=dialect)
    assert "nested too deeply" in error.message
    assert _only_repeats(error.pointer, "", unit), error.pointer


def test_s12_very_deep_schema_is_refused_without_recursion_error() -> None:
    deep = _nested(("properties", "a"), depth=5_000)
    assert "nested too deeply" in load_error(spec({"Deep": deep})).message
    assert "nested too deeply" in compile_error(deep).message


@pytest.mark.parametrize("style", ["flow", "block"])
def test_s12_deep_schema_in_yaml_file_has_line(tmp_path: Path, style: str) -> None:
    if style == "flow":
        body = "    Deep: " + "{properties: {a: " * DEPTH + "{}" + "}}" * DEPTH + "\n"
    else:
        lines, indent = ["    Deep:"], "      "
        for _ in range(DEPTH):
            lines += [indent + "properties:", indent + "  a:"]
            indent += "    "
        body = "\n".join([*lines, indent + "type: string"]) + "\n"
    error = load_error(write(tmp_path, "deep.yaml", HEADER + body))
    assert "nested too deeply" in error.message
    # Refused by the spec walk, or (libyaml >= 0.2.6, in PyYAML 6.0.4) by the reader at 1,000
    # levels: then the pointer ends where reading stopped, perhaps inside a unit.
    prefix, unit = "/components/schemas/Deep", "/properties/a"
    rest = error.pointer.removeprefix(prefix)
    assert error.pointer.startswith(prefix)
    assert rest
    assert (unit * (len(rest) // len(unit) + 1)).startswith(rest)
    assert error.line is not None
    assert error.line >= 6


def test_s12_deep_json_document_is_refused(tmp_path: Path) -> None:
    head = '{"openapi": "3.1.0", "info": {"title": "t", "version": "1"}, "paths": {},\n'
    text = (head + '"components": {"schemas": {"Deep": '
            + '{"properties": {"a": ' * DEPTH + "{}" + "}}" * DEPTH + "}}}\n")
    error = load_error(write(tmp_path, "deep.json", text))
    assert "nested too deeply" in error.message
    assert error.pointer in ("", "/components/schemas/Deep") or error.pointer.startswith(
        "/components/schemas/Deep/properties/a")


def test_s12_moderately_deep_schema_still_works() -> None:
    """Control: 100 levels is legitimate and validates a 100-deep instance."""
    deep = _nested(("properties", "a"), depth=100)
    validator = component(sg.load_spec(spec({"D": deep})), "D")
    instance: Any = "leaf"
    for _ in range(100):
        instance = {"a": instance}
    assert validator.is_valid(instance)
    bad: Any = 1
    for _ in range(100):
        bad = {"a": bad}
    assert [v.pointer for v in validator.iter_violations(bad)] == ["/a" * 100]


# -- S13: invalid regexes fail at load time -------------------------------------------------------

_BAD_PATTERNS = ["([", "(", "[", "*a", "a**", "a{2,1}", "(?<n>a)(?<n>b)", r"\k<nope>", "\\"]


@pytest.mark.parametrize("pattern", _BAD_PATTERNS, ids=_BAD_PATTERNS)
def test_s13_invalid_pattern_fails_load_spec(pattern: str) -> None:
    error = load_error(spec({"P": {"type": "string", "pattern": pattern}}))
    assert "invalid regular expression" in error.message
    assert error.pointer == "/components/schemas/P/pattern"


def test_s13_invalid_pattern_in_file_has_line(tmp_path: Path) -> None:
    path = write(tmp_path, "openapi.yaml",
                 HEADER + "    P:\n      type: string\n      pattern: '(['\n")
    error = load_error(path)
    assert error.pointer.endswith("/pattern")
    assert (error.pointer, error.line, error.column) == ("/components/schemas/P/pattern", 8, 7)


def test_s13_invalid_pattern_in_a_parameter_fails_load_spec() -> None:
    doc = spec(paths={"/users": {"get": {
        "parameters": [{"name": "zip", "in": "query",
                        "schema": {"type": "string", "pattern": "(["}}],
        "responses": {"200": {"description": "ok"}}}}})
    error = load_error(doc)
    assert error.pointer == "/paths/~1users/get/parameters/0/schema/pattern"


def test_s13_invalid_pattern_properties_key_fails_load_spec() -> None:
    error = load_error(spec({"P": {"patternProperties": {"([": {}}}}))
    assert "invalid regular expression" in error.message
    assert error.pointer == "/components/schemas/P/patternProperties"


@pytest.mark.parametrize("dialect", ["draft2020-12", "draft4", "oas30", "oas31"])
def test_s13_invalid_pattern_fails_compile_schema(dialect: str) -> None:
    assert compile_error({"pattern": "(["}, dialect=dialect).pointer == "/pattern"
    nested = compile_error({"properties": {"a": {"pattern": "(["}}}, dialect=dialect)
    assert nested.pointer == "/properties/a/pattern"


# -- S14: ECMA-only syntax (pinned: each compiles with its ECMA meaning) --------------------------

_ECMA_ONLY = {
    "named-group": (r"^(?<year>\d+)$", ["2024"], ["x", "2024a"]),
    "unicode-property": (r"^\p{L}+$", ["abc\u00e9", "\u65e5\u672c"], ["ab1", ""]),
    "any-char-class": (r"^[^]$", ["\n", "a", "\u2028"], ["", "ab"]),
    "control-escape": (r"^\cA$", ["\x01"], ["cA", "A", "\\cA"]),
    "empty-class": (r"^c[]$|^ab$", ["ab"], ["c", "c[]", "cab"]),
}


@pytest.mark.parametrize("dialect", ["draft2020-12", "oas30", "oas31"])
@pytest.mark.parametrize("name", list(_ECMA_ONLY), ids=list(_ECMA_ONLY))
def test_s14_ecma_only_syntax_compiles_with_ecma_meaning(name: str, dialect: str) -> None:
    pattern, matching, other = _ECMA_ONLY[name]
    validator = sg.compile_schema({"type": "string", "pattern": pattern}, dialect=dialect)
    for text in matching:
        assert validator.is_valid(text), text
    for text in other:
        assert not validator.is_valid(text), text


@pytest.mark.parametrize("pattern", [r"^a[]?b$", r"^a[]*b$"], ids=["optional", "star"])
def test_s14_quantified_empty_class_is_ecma_or_refused(pattern: str) -> None:
    # Either outcome is allowed by S14; today these are refused (the `[]` -> `(?!)` rewrite
    # cannot take a quantifier). A wrong meaning would fail here.
    refusal: sg.SpecError | None = None
    try:
        validator = sg.compile_schema({"type": "string", "pattern": pattern}, dialect="oas31")
    except sg.SpecError as error:
        refusal = error
    if refusal is not None:
        assert refusal.pointer == "/pattern"
        assert "invalid regular expression" in refusal.message
    else:
        assert validator.is_valid("ab")
        assert not validator.is_valid("a[]b")


@pytest.mark.parametrize("name", list(_ECMA_ONLY), ids=list(_ECMA_ONLY))
def test_s14_ecma_only_syntax_loads_from_a_spec(name: str) -> None:
    pattern, matching, other = _ECMA_ONLY[name]
    validator = component(sg.load_spec(spec({"P": {"type": "string", "pattern": pattern}})), "P")
    assert all(validator.is_valid(text) for text in matching)
    assert not any(validator.is_valid(text) for text in other)


# -- S15 (runtime): ECMA-262 semantics, not Python's ----------------------------------------------

_ECMA_SEMANTICS = [
    (r"^\d{5}$", "\u0661\u0662\u0663\u0664\u0665", False),  # Arabic-Indic digits
    (r"^\d{5}$", "12345", True),
    (r"^\D$", "\u0663", True),
    (r"^\w+$", "\u00e9", False),
    (r"^\w+$", "a_Z9", True),
    (r"^\W$", "\u00e9", True),
    (r"^[a-z]+$", "abc\n", False),  # `$` is the end of input
    (r"^[a-z]+$", "abc", True),
    (r"^.$", "\n", False),
    (r"^.$", "a", True),
    (r"^\s$", "\u00a0", True),
    (r"^\s$", "\ufeff", True),  # ECMA WhiteSpace has ZWNBSP; Python's \s does not
    (r"^\s$", "\u2028", True),
    (r"^\s$", "\u0085", False),  # NEL is not ECMA whitespace
    (r"^\s$", "\u200b", False),
]


@pytest.mark.parametrize("dialect", ["draft2020-12", "oas30", "oas31"])
@pytest.mark.parametrize(
    ("pattern", "text", "expected"), _ECMA_SEMANTICS,
    ids=[f"{p}-{t.encode('unicode_escape').decode()}" for p, t, _ in _ECMA_SEMANTICS],
)
def test_s15_patterns_have_ecma_semantics(
    pattern: str, text: str, expected: bool, dialect: str
) -> None:
    validator = sg.compile_schema({"type": "string", "pattern": pattern}, dialect=dialect)
    assert validator.is_valid(text) is expected


@pytest.mark.parametrize("text", ["\r", "\u2028", "\u2029"], ids=["CR", "LS", "PS"])
def test_s15_dot_excludes_every_line_terminator(text: str) -> None:
    # ECMA-262 `.` excludes every LineTerminator (\n, \r, \u2028, \u2029).
    validator = sg.compile_schema({"type": "string", "pattern": "^.$"}, dialect="oas31")
    assert not validator.is_valid(text)


def test_s15_word_boundary_is_ascii() -> None:
    # ECMA-262 `\b` is an ASCII (\w = [A-Za-z0-9_]) boundary: there is one between a and é.
    validator = sg.compile_schema({"type": "string", "pattern": "\\b\u00e9"}, dialect="oas31")
    assert validator.is_valid("a\u00e9")


def test_s15_python_only_quantifier_is_not_given_python_meaning() -> None:
    # Python reads `a{,3}` as a{0,3}; ECMA (Annex B) reads it literally. Pinned: refused.
    error = compile_error({"type": "string", "pattern": "^a{,3}$"}, dialect="oas31")
    assert error.pointer == "/pattern"


# -- S16 (runtime): catastrophic patterns are bounded and fail closed -----------------------------


def _timed(validator: sg.SchemaValidator, text: str) -> tuple[bool, float]:
    start = time.perf_counter()
    valid = validator.is_valid(text)
    return valid, time.perf_counter() - start


def test_s16_redos_pattern_with_max_length_answers_fast() -> None:
    validator = sg.compile_schema(
        {"type": "string", "pattern": "^(a+)+$", "maxLength": 64}, dialect="oas31")
    valid, elapsed = _timed(validator, "a" * 40 + "b")
    assert valid is False
    assert elapsed < 0.05
    assert validator.is_valid("a" * 40)


_CATASTROPHIC = [
    ("^(a+)+$", "a" * 5_000 + "b"),
    ("(a|aa)+$", "a" * 40 + "b"),
    ("(.*a){12}", "a" * 30 + "b" * 10),
    (r"^(\w+\s?)*$", "a" * 40 + "!"),
    ("^(?=(a+)+$)", "a" * 40 + "b"),
    ("^(?=(a|aa)+$)", "a" * 40 + "b"),
    ("(?<=(a+)+)b", "a" * 40 + "c"),
    ("^((?=a)a+)+$", "a" * 40 + "b"),
    (r"^(a+)+\1$", "a" * 40 + "b"),
    (r"^(\w+\s?)*(?=x)$", "a" * 30 + "!"),
]


@pytest.mark.parametrize(("pattern", "text"), _CATASTROPHIC,
                         ids=[p for p, _ in _CATASTROPHIC])
def test_s16_catastrophic_patterns_return_fast(pattern: str, text: str) -> None:
    validator = sg.compile_schema({"type": "string", "pattern": pattern}, dialect="oas31")
    _, elapsed = _timed(validator, text)
    assert elapsed < 0.1
    start = time.perf_counter()
    list(validator.iter_violations(text))
    assert time.perf_counter() - start < 0.1


def test_s16_exhausted_backtrack_budget_fails_closed() -> None:
    # The negative lookahead holds for "a...ab" (so ECMA says valid), but deciding it needs
    # exponential backtracking: past the budget the value must be refused, not accepted.
    validator = sg.compile_schema({"type": "string", "pattern": "^(?!((?=a)a+)+$)"},
                                  dialect="oas31")
    assert validator.is_valid("a" * 8 + "b")  # small input: evaluated, and valid
    assert not validator.is_valid("aaaa")  # small input: evaluated, and invalid
    valid, elapsed = _timed(validator, "a" * 40 + "b")
    assert valid is False
    assert elapsed < 0.1
    violations = list(validator.iter_violations("a" * 40 + "b"))
    assert [(v.pointer, v.keyword) for v in violations] == [("", "pattern")]
    assert "budget" in violations[0].message


# -- S18: code-injection strings are data ---------------------------------------------------------


def _injection_spec(marker: Path) -> tuple[dict[str, Any], str, str]:
    prop = f'x"]) or __import__("os").system("touch {marker}") or (["'
    pattern = f"'''+__import__('os').system('touch {marker}')+'''"
    docstring_breaker = f'"""; import os; os.system("touch {marker}") #'
    schemas = {
        "Evil": {
            "type": "object",
            "required": [prop],
            "additionalProperties": False,
            "properties": {prop: {"type": "string", "pattern": pattern,
                                  "default": docstring_breaker,
                                  "description": docstring_breaker}},
        },
        "Enum": {"enum": ["O'Higgins", '"""', "\\", "\u2028", "\u0000"]},
        "Fmt": {"type": "string", "format": 'email"); import os #'},
        "a'b": {"type": "integer"},
        'q"q': {"type": "boolean"},
        "UsesQuote": {"$ref": S + "a'b"},
        "UsesDoubleQuote": {"$ref": S + 'q"q'},
    }
    doc = spec(schemas, paths={"/x": {"post": {
        "operationId": "x(): pass\nimport os",
        "description": docstring_breaker,
        "requestBody": {"content": {"application/json": {"schema": {"$ref": S + "Evil"}}}},
        "responses": {"200": {"description": docstring_breaker}},
    }}})
    return doc, prop, pattern


def test_s18_injection_strings_are_treated_as_data(tmp_path: Path) -> None:
    marker = tmp_path / "sg_pwned"
    doc, prop, pattern = _injection_spec(marker)
    # A string the pattern (read as a regex) matches: '' '+ __import__ ('os') . system (...)+ '''
    matching = f"'''__import__'os'.system'touch {marker}''''"
    with _watch() as events:
        loaded = sg.load_spec(doc)
        evil = component(loaded, "Evil")
        assert evil.is_valid({prop: matching})
        assert not evil.is_valid({prop: pattern})  # the pattern text is not a match of itself
        assert not evil.is_valid({prop: matching, "other": 1})
        violations = list(evil.iter_violations({}))
        assert [(v.keyword, v.pointer) for v in violations] == [
            ("required", "/" + prop.replace("~", "~0").replace("/", "~1"))
        ]
        enum = component(loaded, "Enum")
        for value in ["O'Higgins", '"""', "\\", "\u2028", "\u0000"]:
            assert enum.is_valid(value), repr(value)
        assert not enum.is_valid("\\\\")
        assert not enum.is_valid("")
        fmt = component(loaded, "Fmt")
        assert fmt.is_valid("anything")  # an unknown format is an annotation
        assert not fmt.is_valid(1)
        assert component(loaded, "UsesQuote").is_valid(1)
        assert not component(loaded, "UsesQuote").is_valid("1")
        assert component(loaded, "UsesDoubleQuote").is_valid(True)
        assert not component(loaded, "UsesDoubleQuote").is_valid(1)
    assert not marker.exists()
    assert _processes(events) == []


@pytest.mark.parametrize("dialect", ["draft2020-12", "draft4", "oas30", "oas31"])
def test_s18_injection_property_via_compile_schema(tmp_path: Path, dialect: str) -> None:
    marker = tmp_path / "sg_pwned"
    _, prop, _ = _injection_spec(marker)
    schema = {"type": "object", "required": [prop], "properties": {prop: {"enum": ['"""']}}}
    with _watch() as events:
        validator = sg.compile_schema(schema, dialect=dialect)
        assert validator.is_valid({prop: '"""'})
        assert not validator.is_valid({prop: "x"})
        assert [v.keyword for v in validator.iter_violations({})] == ["required"]
    assert not marker.exists()
    assert _processes(events) == []


def test_s18_injection_strings_in_a_yaml_file(tmp_path: Path) -> None:
    marker = tmp_path / "sg_pwned"
    name = f'x"]) or __import__("os").system("touch {marker}") or (["'
    quoted = "'" + name.replace("'", "''") + "'"
    text = HEADER + "".join(f"    {line}\n" for line in [
        "E:",
        "  type: object",
        f"  required: [{quoted}]",
        "  properties:",
        f"    {quoted}:",
        "      type: string",
        "      format: 'email\"); import os #'",
        "      description: '\"\"\"; __import__(\"os\")'",
    ])
    with _watch() as events:
        loaded = sg.load_spec(write(tmp_path, "openapi.yaml", text))
        validator = component(loaded, "E")
        assert list(loaded.content["components"]["schemas"]["E"]["properties"]) == [name]
        assert not validator.is_valid({})
        assert validator.is_valid({name: "v"})
        assert not validator.is_valid({name: 1})
    assert not marker.exists()
    assert _processes(events) == []


# -- S19: non-numbers where numbers are expected --------------------------------------------------

_NOT_NUMBERS = [
    ("minLength", "validate(10)"),
    ("maximum", "1e9"),
    ("multipleOf", 0),
    ("multipleOf", -1),
    ("maxItems", 1.5),
    ("maxLength", True),  # bool is an int in Python
    ("minLength", -1),
    ("minimum", None),
    ("maxProperties", "__import__('os')"),
]
_NOT_NUMBER_IDS = [f"{k}={v!r}" for k, v in _NOT_NUMBERS]


@pytest.mark.parametrize("version", ["3.1.0", "3.0.3"], ids=["oas31", "oas30"])
@pytest.mark.parametrize(("keyword", "value"), _NOT_NUMBERS, ids=_NOT_NUMBER_IDS)
def test_s19_bad_numeric_keyword_fails_load_spec(keyword: str, value: Any, version: str) -> None:
    error = load_error(spec({"S": {keyword: value}}, version))
    assert error.pointer == f"/components/schemas/S/{keyword}"
    nested = load_error(spec({"S": {"type": "object", "properties": {"a": {keyword: value}}}},
                             version))
    assert nested.pointer == f"/components/schemas/S/properties/a/{keyword}"


@pytest.mark.parametrize("dialect", ["draft2020-12", "draft4", "oas30", "oas31"])
@pytest.mark.parametrize(("keyword", "value"), _NOT_NUMBERS, ids=_NOT_NUMBER_IDS)
def test_s19_bad_numeric_keyword_fails_compile_schema(
    keyword: str, value: Any, dialect: str
) -> None:
    assert compile_error({keyword: value}, dialect=dialect).pointer == f"/{keyword}"
    nested = compile_error({"items": {"properties": {"a": {keyword: value}}}}, dialect=dialect)
    assert nested.pointer == f"/items/properties/a/{keyword}"


@pytest.mark.parametrize(
    ("line_text", "keyword"),
    [
        ("minLength: 'validate(10)'", "minLength"),
        ("maximum: '1e9'", "maximum"),
        ("multipleOf: 0", "multipleOf"),
        ("multipleOf: -1", "multipleOf"),
        ("maxItems: 1.5", "maxItems"),
        ("minimum: .inf", "minimum"),
        ("multipleOf: .nan", "multipleOf"),
    ],
    ids=["minLength-str", "maximum-str", "multipleOf-0", "multipleOf-neg", "maxItems-float",
         "minimum-inf", "multipleOf-nan"],
)
def test_s19_bad_numeric_keyword_in_file_has_line(
    tmp_path: Path, line_text: str, keyword: str
) -> None:
    path = write(tmp_path, "openapi.yaml",
                 HEADER + f"    S:\n      type: string\n      {line_text}\n")
    error = load_error(path)
    assert (error.pointer, error.line, error.column) == (f"/components/schemas/S/{keyword}", 8, 7)


def test_s19_valid_numbers_still_compile() -> None:
    """Control: the same keywords with proper values work."""
    validator = sg.compile_schema(
        {"type": "string", "minLength": 2, "maxLength": 4.0}, dialect="oas31")
    assert validator.is_valid("abc")
    assert not validator.is_valid("a")
    number = sg.compile_schema({"maximum": 1e9, "multipleOf": 0.5}, dialect="oas31")
    assert number.is_valid(2.5)
    assert not number.is_valid(2.25)


# -- S20: 3.0 boolean keywords inside a 3.1 document ----------------------------------------------


@pytest.mark.parametrize(
    ("keyword", "value"),
    [("exclusiveMinimum", True), ("exclusiveMinimum", False), ("exclusiveMaximum", True)],
    ids=["exclusiveMinimum-true", "exclusiveMinimum-false", "exclusiveMaximum-true"],
)
def test_s20_boolean_exclusive_bound_in_31_is_refused(keyword: str, value: bool) -> None:
    error = load_error(spec({"E": {"type": "number", "minimum": 5, "maximum": 9,
                                   keyword: value}}))
    assert "must be a number" in error.message
    assert error.pointer == f"/components/schemas/E/{keyword}"
    for dialect in ("oas31", "draft2020-12"):
        assert compile_error({keyword: value}, dialect=dialect).pointer == f"/{keyword}"


def test_s20_boolean_exclusive_bound_in_31_file_has_line(tmp_path: Path) -> None:
    path = write(tmp_path, "openapi.yaml",
                 HEADER + "    E:\n      minimum: 5\n      exclusiveMinimum: true\n")
    error = load_error(path)
    assert (error.pointer, error.line) == ("/components/schemas/E/exclusiveMinimum", 8)


def test_s20_boolean_exclusive_bound_in_30_means_exclusive(tmp_path: Path) -> None:
    text = HEADER_30 + (
        "    Low: {type: number, minimum: 5, exclusiveMinimum: true}\n"
        "    High: {type: number, maximum: 5, exclusiveMaximum: true}\n"
        "    Incl: {type: number, minimum: 5, exclusiveMinimum: false}\n"
    )
    loaded = sg.load_spec(write(tmp_path, "openapi.yaml", text))
    low, high, incl = (component(loaded, n) for n in ("Low", "High", "Incl"))
    assert not low.is_valid(5)
    assert low.is_valid(5.001)
    assert [v.keyword for v in low.iter_violations(5)] == ["exclusiveMinimum"]
    assert not high.is_valid(5)
    assert high.is_valid(4.999)
    assert incl.is_valid(5)
    assert not incl.is_valid(4.999)
    direct = sg.compile_schema({"minimum": 5, "exclusiveMinimum": True}, dialect="oas30")
    assert not direct.is_valid(5)
    assert direct.is_valid(6)


def test_s20_numeric_exclusive_bounds() -> None:
    loaded = sg.load_spec(spec({"E": {"type": "number", "exclusiveMinimum": 5}}))
    validator = component(loaded, "E")
    assert not validator.is_valid(5)
    assert validator.is_valid(5.5)
    # and a 3.1-style number in a 3.0 document is the malformed one there
    error = load_error(spec({"E": {"exclusiveMinimum": 5}}, "3.0.3"))
    assert error.pointer == "/components/schemas/E/exclusiveMinimum"


# -- S21: identifier collisions -------------------------------------------------------------------

NAMES = ["data", "keys", "self", "errors", "re", "__builtins__", "__class__", "__proto__",
         "constructor", "__init__", "__dict__", "items", "validate", "None", "True", "$ref",
         "prototype", "hasOwnProperty"]


def _collision_schema() -> dict[str, Any]:
    return {"type": "object", "required": list(NAMES), "additionalProperties": False,
            "properties": {name: {"type": "integer"} for name in NAMES}}


def _check_collisions(validator: sg.SchemaValidator) -> None:
    good = {name: 1 for name in NAMES}
    assert validator.is_valid(good)
    for name in NAMES:
        missing = {k: v for k, v in good.items() if k != name}
        assert [(v.pointer, v.keyword) for v in validator.iter_violations(missing)] == [
            (f"/{name}", "required")
        ], name
        wrong = {**good, name: "x"}
        assert [(v.pointer, v.keyword) for v in validator.iter_violations(wrong)] == [
            (f"/{name}", "type")
        ], name
    # (the keyword reported for an extra property differs by dialect; the pointer does not)
    assert [v.pointer for v in validator.iter_violations({**good, "extra": 1})] == ["/extra"]


@pytest.mark.parametrize("dialect", ["draft2020-12", "draft4", "oas30", "oas31"])
def test_s21_identifier_like_property_names_validate_normally(dialect: str) -> None:
    _check_collisions(sg.compile_schema(_collision_schema(), dialect=dialect))


@pytest.mark.parametrize("version", ["3.1.0", "3.0.3"], ids=["oas31", "oas30"])
def test_s21_identifier_like_property_names_in_a_spec(version: str) -> None:
    loaded = sg.load_spec(spec({"C": _collision_schema()}, version))
    _check_collisions(component(loaded, "C"))


# -- file-based SpecErrors carry a line (API: `line` is set when the source is a file) ------------



@pytest.mark.parametrize(
    ("name", "text", "expected_line"),
    [
        pytest.param(
            "dup.json",
            '{"openapi": "3.1.0",\n"info": {"title": "t", "version": "1"},\n'
            '"paths": {},\n"paths": {}\n}\n', 4,
            id="S09-duplicate-key-json",
        ),
        pytest.param(
            "bomb.yaml", "openapi: 3.1.0\ninfo: {title: t, version: '1'}\npaths: {}\n" + _laughs(),
            None,
            id="S06-billion-laughs",
        ),
        pytest.param(
            "rec.yaml", HEADER + "    A: &a\n      properties: {x: *a}\n", None,
            id="S06-recursive-alias",
        ),
        pytest.param(
            "deep.json",
            '{"openapi": "3.1.0", "info": {"title": "t", "version": "1"}, "paths": {},\n'
            '"components": {"schemas": {"Deep": ' + '{"properties": {"a": ' * DEPTH + "{}"
            + "}}" * DEPTH + "}}}\n", None,
            id="S12-deep-json",
        ),
    ],
)
def test_file_based_spec_errors_carry_a_line(
    tmp_path: Path, name: str, text: str, expected_line: int | None
) -> None:
    error = load_error(write(tmp_path, name, text))
    assert error.file is not None
    assert error.line is not None
    if expected_line is not None:
        assert error.line == expected_line
