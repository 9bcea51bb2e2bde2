"""Plain HTTP records and the parsing every adapter needs identically.

Query strings are split like the frameworks split them (``&`` only, never ``;``, ``+`` is a
space, undecodable bytes become U+FFFD, as ``urllib.parse.parse_qsl`` does for Starlette and
Werkzeug), so schemaguard validates exactly the values the handler will read.
"""

from __future__ import annotations

import re
import sys
from abc import abstractmethod
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Any, Final, cast, overload
from urllib.parse import unquote, unquote_to_bytes

Headers = Sequence[tuple[str, str]]


@dataclass(slots=True)
class HttpRequest:
    """A request as the client sent it.

    ``path`` is the raw, percent-encoded path including any server base path; ``query`` the
    raw query string; ``headers`` (name, value) pairs with repeats kept; ``client_cert`` the DER
    bytes of a TLS client certificate the server verified; ``client`` the peer address the
    server saw (rate limits per client). Treat it as read-only: it is not frozen because the
    middlewares build one per request, and a frozen dataclass costs four times as much to build.
    """

    method: str
    path: str
    query: str = ""
    headers: Headers = ()
    body: bytes = b""
    client_cert: bytes | None = None
    client: str | None = None

    # The dataclass's own __init__ (generated at import) is interpreted; this one, the same,
    # compiles (a third of what building a request from an ASGI scope costs).
    def __init__(self, method: str, path: str, query: str = "", headers: Headers = (),
                 body: bytes = b"", client_cert: bytes | None = None,
                 client: str | None = None) -> None:
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
        self.client_cert = client_cert
        self.client = client


@dataclass(frozen=True, slots=True)
class HttpResponse:
    """A response as the app produced it."""

    status: int
    headers: Headers = ()
    body: bytes = b""


class HeaderMap:
    """Case-insensitive view of a header list, repeats kept in order."""

    __slots__ = ("_values",)

    def __init__(self, headers: Headers) -> None:
        values: dict[str, list[str]] = {}
        for name, value in headers:
            key = name.lower()
            found = values.get(key)
            if found is None:  # the usual case: no list built only to be thrown away
                values[key] = [value]
            else:
                found.append(value)
        self._values = values

    def get_all(self, name: str) -> list[str]:
        found = self._values.get(name)  # no default list built for every call
        return [] if found is None else found

    def get(self, name: str) -> str | None:
        found = self._values.get(name)
        return found[0] if found else None

    def only(self, name: str) -> str | None:
        """The value of a header sent exactly once; None when it is absent or repeated
        (get_all tells which): the usual lookup, without a list."""
        found = self._values.get(name)
        return found[0] if found is not None and len(found) == 1 else None

    def __contains__(self, name: object) -> bool:
        return name in self._values

    def isdisjoint(self, names: tuple[str, ...]) -> bool:
        """Whether none of ``names`` (lower-case) is present."""
        values = self._values  # lookups: a keys view and its method cost more (every request)
        return all(name not in values for name in names)  # a loop once compiled

    def sends_any(self, group: HeaderGroup) -> bool:
        """Whether any header of ``group`` is present (``not isdisjoint(group.names)``, read
        as the map's kind reads a group the quickest)."""
        return not self.isdisjoint(group.names)

    def names(self) -> list[str]:
        return list(self._values)

    @classmethod
    def from_values(cls, values: dict[str, list[str]]) -> HeaderMap:
        """The map of lower-case names to their values, taken as it is."""
        found = object.__new__(cls)
        found._values = values
        return found

    @staticmethod
    def of(headers: Headers) -> HeaderMap:
        """The map of ``headers``; a WSGI environ's headers are looked up where they are."""
        if type(headers) in _SERVER_HEADERS:  # no isinstance: an ABC check costs more
            return headers.map()  # type: ignore[attr-defined, no-any-return]  # (no cast call)
        values = {pair[0].lower(): pair[1] for pair in headers}
        if len(values) == len(headers):  # the usual request: no header repeated
            return _PlainHeaderMap(values)
        return HeaderMap(headers)


class _SingleHeaderMap(HeaderMap):
    """HeaderMap of headers whose names are all different (most requests): one value per
    name, no list of each; a name cannot repeat, so ``only`` is ``get``."""

    __slots__ = ("_single",)

    def __init__(self, single: dict[str, Any]) -> None:  # no dict of lists of its own
        self._single = single

    def only(self, name: str) -> str | None:
        return self.get(name)

    def __contains__(self, name: object) -> bool:
        return name in self._single

    def isdisjoint(self, names: tuple[str, ...]) -> bool:
        single = self._single
        return all(name not in single for name in names)

    def names(self) -> list[str]:
        return list(self._single)


class _PlainHeaderMap(_SingleHeaderMap):
    """The single-valued map of (name, value) pairs (check_request given pairs)."""

    __slots__ = ()

    def get(self, name: str) -> str | None:
        value: str | None = self._single.get(name)
        return value

    def get_all(self, name: str) -> list[str]:
        value = self._single.get(name)
        return [] if value is None else [value]


class _ServerHeaders(Sequence[tuple[str, str]]):
    """Headers as a server holds them, turned into pairs only if something iterates them;
    the guard reads them through ``map()``, built without the pairs."""

    __slots__ = ("_pairs",)

    def __init__(self) -> None:
        self._pairs: list[tuple[str, str]] | None = None

    def _all(self) -> list[tuple[str, str]]:
        if self._pairs is None:
            self._pairs = self._build()
        return self._pairs

    @abstractmethod
    def _build(self) -> list[tuple[str, str]]:
        """The (name, value) pairs, names lower-case."""

    @abstractmethod
    def map(self) -> HeaderMap:
        """The HeaderMap the guard reads."""

    @overload
    def __getitem__(self, index: int) -> tuple[str, str]: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[tuple[str, str]]: ...

    def __getitem__(self, index: int | slice) -> tuple[str, str] | Sequence[tuple[str, str]]:
        return self._all()[index]

    def __len__(self) -> int:
        return len(self._all())

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(self._all())

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._all()!r})"


class ScopeHeaders(_ServerHeaders):
    """An ASGI scope's raw ``(name, value)`` byte pairs, decoded as latin-1 with lower-case
    names (each raw name decoded once, then cached) only if something iterates them or asks
    about a header the guard does not keep (``select``)."""

    __slots__ = ("_raw",)

    def __init__(self, raw: Iterable[tuple[bytes, bytes]]) -> None:
        self._pairs = None
        # ASGI allows any iterable of pairs; servers send lists (kept as they are).
        self._raw: list[Any] = raw if type(raw) is list else list(raw)

    def _build(self) -> list[tuple[str, str]]:
        names = _RAW_NAMES
        return [(names.get(k) or _raw_name(k), v.decode("latin-1")) for k, v in self._raw]

    def map(self) -> HeaderMap:
        """The map of all the headers, from the decoded pairs (the guard reads a request's
        through ``select``, which asks this one about the headers it does not keep)."""
        return HeaderMap.of(self._all())

    def select(self, wanted: HeaderNames) -> HeaderMap:
        """The map of the headers the guard reads (``wanted``), each at its place in a list:
        the usual request's others (Host, User-Agent, Accept...) are passed over without a
        copy of their name, and a lookup of one of them builds the whole map."""
        known, raw = wanted.raw, self._raw
        values: list[bytes | None] = [None] * wanted.count
        key: bytes
        for pair in raw:
            if type(pair) is tuple and len(pair) == 2:  # what servers send: a native pair
                key, value = cast(tuple[bytes, bytes], pair)
            else:
                key, value = pair[0], pair[1]
            place = known.get(key)
            if place is None:
                place = wanted.place(key)
            if place >= 0:
                if values[place] is not None:  # a header the guard reads, repeated
                    return HeaderMap(self._all())
                values[place] = value
        return _SelectedHeaderMap(values, wanted, self)


class _SelectedHeaderMap(HeaderMap):
    """The map of the headers a guard reads (ScopeHeaders.select): the value of each at its
    place (None: not sent; none is sent twice); a name it does not read is looked up in the
    map of all of them, built then."""

    __slots__ = ("_all_headers", "_headers", "_names", "_places", "_sent")

    def __init__(self, sent: list[bytes | None], names: HeaderNames,
                 headers: ScopeHeaders) -> None:
        self._sent = sent
        self._names = names
        self._places = names.places
        self._headers = headers
        self._all_headers: HeaderMap | None = None

    def _rest(self) -> HeaderMap:
        found = self._all_headers
        if found is None:
            found = self._all_headers = self._headers.map()
        return found

    def get(self, name: str) -> str | None:
        place = self._places.get(name)
        if place is None:
            return self._rest().get(name)
        value = self._sent[place]
        return None if value is None else value.decode("latin-1")

    def get_all(self, name: str) -> list[str]:
        place = self._places.get(name)
        if place is None:
            return self._rest().get_all(name)
        value = self._sent[place]
        return [] if value is None else [value.decode("latin-1")]

    def only(self, name: str) -> str | None:
        place = self._places.get(name)
        if place is None:
            return self._rest().only(name)
        value = self._sent[place]
        return None if value is None else value.decode("latin-1")

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, str):
            return False
        place = self._places.get(name)
        if place is None:
            return name in self._rest()
        return self._sent[place] is not None

    def sends_any(self, group: HeaderGroup) -> bool:
        places = self._names.groups.get(group)  # the group's places, when the guard's own
        if places is None:
            return not self.isdisjoint(group.names)
        sent = self._sent
        return any(sent[place] is not None for place in places)  # a loop once compiled

    def isdisjoint(self, names: tuple[str, ...]) -> bool:
        places, sent = self._places, self._sent
        for name in names:  # a loop: this runs for every request
            place = places.get(name)
            if place is None:
                if name in self._rest():
                    return False
            elif sent[place] is not None:
                return False
        return True

    def names(self) -> list[str]:
        return self._rest().names()


class HeaderGroup:
    """Header names asked about together for every request (the method-override headers):
    where each kind of header map finds them is worked out once (``HeaderMap.sends_any``).
    Compared by identity: a guard's HeaderNames keeps the places of the groups it was
    given."""

    __slots__ = ("environ_keys", "names")

    def __init__(self, names: Iterable[str]) -> None:
        self.names = tuple(sys.intern(name.lower()) for name in names)
        # Their HTTP_ keys in a WSGI environ; () when one is a CGI header (an empty
        # CONTENT_TYPE is no header: those are looked up one by one).
        self.environ_keys = _key_set(self.names)


class HeaderNames:
    """The header names a guard reads (lower case), each with its place in a selected map
    (``places``), and what each raw ASGI header name is to it (``raw``): the place of its
    lower-case name, -1 when the guard does not read it. Clients choose the names: at most
    4,096 of at most 64 bytes are kept."""

    __slots__ = ("groups", "places", "raw")

    def __init__(self, names: Iterable[str], groups: Iterable[HeaderGroup] = ()) -> None:
        groups = list(groups)
        # Interned, as the guard's constant names are: a lookup finds the very object.
        ordered = dict.fromkeys(sys.intern(name.lower()) for name in
                                [*names, *(name for group in groups for name in group.names)])
        self.places: dict[str, int] = {name: place for place, name in enumerate(ordered)}
        self.raw: dict[bytes, int] = {}
        # The places of each group's names (HeaderMap.sends_any).
        self.groups: dict[HeaderGroup, tuple[int, ...]] = {
            group: tuple(self.places[name] for name in group.names) for group in groups}

    @property
    def names(self) -> frozenset[str]:
        return frozenset(self.places)

    @property
    def count(self) -> int:
        return len(self.places)

    def place(self, raw: bytes) -> int:
        place = self.places.get(raw.decode("latin-1").lower(), -1)
        if len(raw) <= 64 and len(self.raw) < 4096:
            self.raw[raw] = place
        return place


# b"X-Api-Key" -> "x-api-key". Clients choose the names: at most 4,096 of at most 64 bytes
# are kept, so the cache stays under a megabyte whatever they send.
_RAW_NAMES: Final[dict[bytes, str]] = {}


def _raw_name(raw: bytes) -> str:
    name = raw.decode("latin-1").lower()
    if len(raw) <= 64 and len(_RAW_NAMES) < 4096:
        _RAW_NAMES[raw] = name
    return name


class EnvironHeaders(_ServerHeaders):
    """A WSGI environ's request headers as (name, value) pairs, read where they are.

    Servers keep each header at ``HTTP_<NAME>`` (upper case, ``-`` written ``_``, repeats
    already joined), Content-Type and Content-Length at ``CONTENT_TYPE`` and
    ``CONTENT_LENGTH``. A lookup goes straight to that key, so a request costs the headers
    the guard asks about rather than a pass over the environ's twenty-odd keys; the pairs are
    built only if something iterates them. Names come out lower-case, ``_`` read as ``-``.
    """

    __slots__ = ("_environ",)

    def __init__(self, environ: Mapping[str, Any]) -> None:
        self._pairs = None
        # PEP 3333: the environ is a dict (typed as one, its lookups compile to direct
        # calls); any other mapping is read as a dict of what it holds.
        self._environ: dict[str, Any] = environ if type(environ) is dict else dict(environ)

    def _build(self) -> list[tuple[str, str]]:
        environ = self._environ
        pairs = [(key[5:].replace("_", "-").lower(), value)
                 for key, value in environ.items() if key[:5] == "HTTP_"]
        for key, name in _CGI_HEADERS:
            if environ.get(key):
                pairs.append((name, environ[key]))
        return pairs

    def map(self) -> HeaderMap:
        return _EnvironHeaderMap(self._environ)


class _EnvironHeaderMap(HeaderMap):
    """HeaderMap answers straight from the environ (the same answers as the pairs give)."""

    __slots__ = ("_environ",)

    def __init__(self, environ: dict[str, Any]) -> None:  # no dict of its own
        self._environ = environ

    def get(self, name: str) -> str | None:
        environ = self._environ
        keys = _environ_keys(name)
        value: str | None = environ.get(keys.key)
        cgi = keys.cgi
        if value is None and cgi is not None:
            return environ.get(cgi) or None
        return value

    def get_all(self, name: str) -> list[str]:
        environ = self._environ
        keys = _environ_keys(name)
        value = environ.get(keys.key)
        cgi = keys.cgi
        values = [] if value is None else [value]
        if cgi is not None and environ.get(cgi):
            values.append(environ[cgi])
        return values

    def only(self, name: str) -> str | None:
        # get_all's answer when it holds one value, without its list.
        environ = self._environ
        keys = _environ_keys(name)
        value: str | None = environ.get(keys.key)
        cgi = keys.cgi
        if cgi is not None:
            other: str | None = environ.get(cgi)
            if other:
                return other if value is None else None
        return value

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, str):
            return False
        environ = self._environ
        keys = _environ_keys(name)
        cgi = keys.cgi
        return keys.key in environ or (cgi is not None and bool(environ.get(cgi)))

    def isdisjoint(self, names: tuple[str, ...]) -> bool:
        return all(name not in self for name in names)

    def sends_any(self, group: HeaderGroup) -> bool:
        keys = group.environ_keys
        if keys:  # a tuple, and a dict: an indexed loop of dict lookups once compiled
            environ = self._environ
            return any(key in environ for key in keys)
        return not self.isdisjoint(group.names)

    def names(self) -> list[str]:
        return list(dict.fromkeys(name for name, _ in EnvironHeaders(self._environ)))


_SERVER_HEADERS: Final = frozenset({EnvironHeaders, ScopeHeaders})
_CGI_HEADERS = (("CONTENT_TYPE", "content-type"), ("CONTENT_LENGTH", "content-length"))
_CGI_KEYS: Final = {name: key for key, name in _CGI_HEADERS}


class _EnvironKeys:
    """Where a header's values are in an environ: its ``HTTP_`` key ("" for a name no
    server writes) and its CGI key (None for all but Content-Type and Content-Length). (A
    native class: read with no tuple made, as unpacking a cached tuple would.)"""

    __slots__ = ("cgi", "key")

    def __init__(self, key: str, cgi: str | None) -> None:
        self.key = key
        self.cgi = cgi


# "x-api-key" -> HTTP_X_API_KEY, "content-type" -> HTTP_CONTENT_TYPE and CONTENT_TYPE: where
# a header's values are. The names are those the guard asks about (the spec's), so the
# cache stays small.
_ENVIRON_KEYS: Final[dict[str, _EnvironKeys]] = {}


def _key_set(names: tuple[str, ...]) -> tuple[str, ...]:
    """The environ keys of ``names``' values; () when one of them is a CGI header."""
    found = [_environ_keys(name) for name in names]
    if any(each.cgi is not None for each in found):
        return ()
    return tuple(dict.fromkeys(each.key for each in found if each.key))


def _environ_keys(name: str) -> _EnvironKeys:
    """Where ``name``'s values are in an environ (kept, for the names the guard asks about:
    a direct call once compiled, then one dict lookup)."""
    found = _ENVIRON_KEYS.get(name)
    if found is not None:
        return found
    # A server writes "-" as "_", so a name with "_" (or one that upper-cases to another
    # length) has no key of its own: as a HeaderMap of the pairs, nothing is found for it.
    ok = name.isascii() and "_" not in name and name == name.lower()
    keys = _EnvironKeys("HTTP_" + name.upper().replace("-", "_") if ok else "",
                        _CGI_KEYS.get(name))
    if len(_ENVIRON_KEYS) < 4096:
        _ENVIRON_KEYS[name] = keys
    return keys


def parse_query(query: str, *, decode_values: bool = True) -> dict[str, list[str]]:
    """Decode a query string into name -> values (blank values kept)."""
    result: dict[str, list[str]] = {}
    if not query:
        return result
    plain = "%" not in query and "+" not in query
    for field in query.split("&"):
        if not field:
            continue
        name, _, value = field.partition("=")
        if not plain:
            name = unquote(name.replace("+", " "), errors="replace")
            if decode_values:
                value = unquote(value.replace("+", " "), errors="replace")
        found = result.get(name)
        if found is None:
            result[name] = [value]
        else:
            found.append(value)
    return result


def parse_cookies(headers: list[str]) -> dict[str, list[str]]:
    """Cookie header(s) to name -> values (RFC 6265 §5.4 pairs; values are not decoded)."""
    result: dict[str, list[str]] = {}
    for header in headers:
        for pair in header.split(";"):
            name, sep, value = pair.strip().partition("=")
            if not sep or not name:
                continue
            value = value.strip()
            if len(value) >= 2 and value[0] == value[-1] == '"':
                value = value[1:-1]
            result.setdefault(name.strip(), []).append(value)
    return result


def decode_path(path: str) -> str | None:
    """Percent-decode a raw path once, as UTF-8; None when the bytes are not UTF-8."""
    if "%" not in path:
        return path
    try:
        return unquote_to_bytes(path).decode("utf-8")
    except UnicodeDecodeError:
        return None


_TOKEN = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
_MEDIA_TYPE = re.compile(rf"\s*({_TOKEN})/({_TOKEN})\s*((?:;.*)?)$", re.DOTALL)
_PARAMETER = re.compile(rf'\s*;\s*(?:({_TOKEN})=({_TOKEN}|"(?:[^"\\]|\\.)*"))?\s*', re.DOTALL)


@dataclass(frozen=True, slots=True)
class MediaType:
    """A parsed media type (RFC 9110 §8.3.1): type and subtype lower-cased."""

    type: str
    subtype: str
    parameters: tuple[tuple[str, str], ...] = ()
    # JSON (application/json, any +json): read for every body, so worked out once.
    is_json: bool = dataclass_field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        subtype = self.subtype
        object.__setattr__(self, "is_json", subtype == "json" or subtype.endswith("+json"))

    @property
    def essence(self) -> str:
        return f"{self.type}/{self.subtype}"

    def parameter(self, name: str) -> str | None:
        for key, value in self.parameters:
            if key == name:
                return value
        return None


def parse_media_type(value: str) -> MediaType | None:
    """Parse a Content-Type value; None when it is not a media type."""
    match = _MEDIA_TYPE.match(value)
    if match is None:
        return None
    params: list[tuple[str, str]] = []
    rest = match.group(3)
    position = 0
    while position < len(rest):
        param = _PARAMETER.match(rest, position)
        if param is None or param.end() == position:
            return None
        if param.group(1):
            raw = param.group(2)
            if raw.startswith('"'):
                raw = re.sub(r"\\(.)", r"\1", raw[1:-1])
            params.append((param.group(1).lower(), raw))
        position = param.end()
    return MediaType(match.group(1).lower(), match.group(2).lower(), tuple(params))
