"""A loaded OpenAPI document: its files, its version, and reference resolution.

``load_spec`` reads the root document, follows every ``$ref`` once (loading sibling files that
lie inside the spec's root folder) and checks every schema it meets, so that every problem a
spec can have surfaces here, at start-up. Reading a spec never runs code and never touches the
network: a reference to anything but a file under the root is refused unless the caller passes a
``retrieve`` function that fetches it (its policy is then the caller's).
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit
from urllib.request import url2pathname

from ._keywords import Dialect
from ._source import Document, parse, read_file, split_pointer
from .errors import SpecError

Retrieve = Callable[[str], "bytes | str | Mapping[str, Any]"]

MAPPING_URI = "urn:schemaguard:spec"
_VERSION = re.compile(r"^3\.([01])\.\d+(?:-[0-9A-Za-z.]+)?$")
# jsonSchemaDialect / $schema values and the draft each means for jsonschema-rs.
SCHEMA_DIALECTS: dict[str, Dialect] = {
    "https://spec.openapis.org/oas/3.1/dialect/base": "oas31",
    "https://json-schema.org/draft/2020-12/schema": "oas31",
    "http://json-schema.org/draft-04/schema#": "draft4",
    "http://json-schema.org/draft-04/schema": "draft4",
}


class Spec:
    """A loaded, checked OpenAPI 3.0/3.1 document (and the files it references).

    Immutable once loaded and safe to share between threads; compiled schemas are cached on it.
    """

    def __init__(
        self,
        root: Document,
        root_dir: Path | None,
        retrieve: Retrieve | None,
    ) -> None:
        self.root = root
        self.root_dir = root_dir
        self._retrieve = retrieve
        self._documents: dict[str, Document] = {root.uri: root}
        self.lock = threading.RLock()
        self.compilers: dict[tuple[Any, ...], Any] = {}
        self.index: Any = None  # the _walk.SpecIndex, set by load_spec
        content = root.content
        if not isinstance(content, dict):
            raise root.error("the document is not a mapping (an OpenAPI object was expected)")
        if "swagger" in content:
            raise root.error(
                "OpenAPI 2.0 (Swagger) is not supported: convert the document to OpenAPI 3.x",
                "/swagger",
            )
        version = content.get("openapi")
        if not isinstance(version, str):
            raise root.error(
                "`openapi` must be a version string such as \"3.1.0\""
                + (" (quote it: YAML reads it as a number)" if isinstance(version, float) else ""),
                "/openapi" if "openapi" in content else "",
            )
        match = _VERSION.match(version)
        if match is None:
            raise root.error(f"unsupported OpenAPI version `{version}` (3.0.x and 3.1.x are)",
                             "/openapi")
        self.version = version
        self.dialect: Dialect = "oas30" if match.group(1) == "0" else "oas31"
        self.schema_dialect: Dialect = self.dialect
        if self.dialect == "oas31" and "jsonSchemaDialect" in content:
            declared = content["jsonSchemaDialect"]
            if declared not in SCHEMA_DIALECTS:
                raise root.error("unsupported `jsonSchemaDialect` (the OAS 3.1 base dialect, "
                                 "JSON Schema 2020-12 and draft-04 are)", "/jsonSchemaDialect")
            self.schema_dialect = SCHEMA_DIALECTS[declared]

    @property
    def content(self) -> dict[str, Any]:
        """The root document as plain data (treat it as read-only)."""
        result: dict[str, Any] = self.root.content
        return result

    @property
    def uri(self) -> str:
        return self.root.uri

    def document(self, uri: str) -> Document:
        return self._documents[uri]

    def error(self, uri: str, pointer: str, message: str) -> SpecError:
        return self._documents[uri].error(message, pointer)

    def display(self, uri: str, pointer: str) -> str:
        """``pointer`` for the root document, ``file#pointer`` for others."""
        if uri == self.root.uri:
            return pointer
        if self.root_dir is not None and uri.startswith("file:"):
            path = Path(url2pathname(urlsplit(uri).path))
            try:
                return f"{path.relative_to(self.root_dir).as_posix()}#{pointer}"
            except ValueError:  # pragma: no cover - refs outside the root are refused
                pass
        return f"{uri}#{pointer}"

    def resolve(self, ref: Any, base: str, at: str) -> tuple[str, str, Any]:
        """(uri, pointer, value) that ``ref``, found at ``base``#``at``, names."""
        if not isinstance(ref, str):
            raise self.error(base, at, "`$ref` must be a string")
        target, _, fragment = ref.partition("#")
        uri = self._target_uri(target, base, at) if target else base
        pointer = unquote(fragment)
        if pointer and not pointer.startswith("/"):
            raise self.error(base, at, f"unsupported reference `{ref}`: only JSON-pointer "
                                       "fragments (`#/...`) are supported")
        document = self._load(uri, base, at)
        value = document.content
        for token in split_pointer(pointer):
            if isinstance(value, dict) and token in value:
                value = value[token]
            elif (isinstance(value, list) and token.isascii() and token.isdigit()
                  and (token == "0" or not token.startswith("0")) and int(token) < len(value)):
                value = value[int(token)]
            else:
                raise self.error(base, at, f"unresolvable reference `{ref}`")
        return uri, pointer, value

    def _target_uri(self, target: str, base: str, at: str) -> str:
        scheme = urlsplit(target).scheme
        if scheme and scheme != "file":
            if self._retrieve is None:
                raise self.error(base, at, f"remote reference `{target}` refused: remote "
                                           "references are disabled (pass `retrieve=` to allow)")
            return target
        if base == MAPPING_URI:
            raise self.error(base, at, f"reference to the file `{target}` from a spec given as a "
                                       "mapping: pass `root=` to name the folder it is in")
        return urljoin(base, target)

    def _load(self, uri: str, base: str, at: str) -> Document:
        document = self._documents.get(uri)
        if document is not None:
            return document
        with self.lock:
            document = self._documents.get(uri)
            if document is None:
                document = self._fetch(uri, base, at)
                self._documents[uri] = document
        return document

    def _fetch(self, uri: str, base: str, at: str) -> Document:
        if not uri.startswith("file:"):
            if self._retrieve is None:  # pragma: no cover - _target_uri refuses these first
                raise self.error(base, at, f"remote reference `{uri}` refused")
            try:
                fetched = self._retrieve(uri)
            except Exception:
                raise self.error(base, at, f"cannot retrieve `{uri}`") from None
            if isinstance(fetched, Mapping):
                return Document(uri, dict(fetched))
            text = fetched.decode("utf-8") if isinstance(fetched, bytes) else fetched
            return Document(uri, parse(text, uri), file=uri, text=text)
        path = Path(url2pathname(urlsplit(uri).path))
        # Resolve symlinks before the check, and check before opening (bad-inputs S04).
        real = Path(os.path.realpath(path))
        if self.root_dir is None or not real.is_relative_to(self.root_dir):
            raise self.error(base, at, "reference outside the spec's root folder refused "
                                       "(`load_spec(..., root=)` widens it)")
        if not real.is_file():
            raise self.error(base, at, "referenced file does not exist")
        return read_file(real, self._relative(real))

    def _relative(self, path: Path) -> str:
        """How a referenced file is named in errors: beside the root file as it was given."""
        if self.root_dir is not None:
            try:
                relative = path.relative_to(self.root_dir).as_posix()
            except ValueError:  # pragma: no cover
                return str(path)
            base = os.path.dirname(self.root.file) if self.root.file else ""
            return os.path.normpath(os.path.join(base, relative)).replace(os.sep, "/")
        return str(path)


def load_spec(
    source: str | os.PathLike[str] | Mapping[str, Any],
    *,
    root: str | os.PathLike[str] | None = None,
    retrieve: Retrieve | None = None,
) -> Spec:
    """Load and check an OpenAPI 3.0/3.1 document from a path or a mapping.

    ``root`` is the folder references may read files from (default: the folder of the file).
    ``retrieve(uri)`` fetches a remote reference; without it remote references are refused.
    Raises ``SpecError`` for anything that would make the spec unusable.
    """
    from ._walk import check_spec  # the walker needs Spec; import here to keep modules acyclic

    if isinstance(source, Mapping):
        root_dir = Path(os.path.realpath(root)) if root is not None else None
        uri = (root_dir / "openapi.json").as_uri() if root_dir is not None else MAPPING_URI
        document = Document(uri, dict(source))
    else:
        path = Path(os.path.realpath(source))
        root_dir = Path(os.path.realpath(root)) if root is not None else path.parent
        if not path.is_file():
            raise SpecError("no such file", file=os.fspath(source))
        document = read_file(path, os.fspath(source))
    spec = Spec(document, root_dir, retrieve)
    spec.index = check_spec(spec)
    return spec
