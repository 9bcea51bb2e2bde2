"""Header maps: a WSGI environ's headers, looked up where they are, answer exactly as a map
built from the (name, value) pairs the environ holds."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from schemaguard._http import (
    EnvironHeaders,
    HeaderGroup,
    HeaderMap,
    HeaderNames,
    HttpRequest,
    ScopeHeaders,
)

_NAMES = ["x-api-key", "content-type", "content-length", "authorization", "cookie",
          "x-http-method-override", "transfer-encoding", "x_api_key", "X-Api-Key", "straße",
          "", "x-", "a-b-c"]
# Keys as servers write them, and some they should not (lower case, odd spellings).
_KEYS = ["HTTP_X_API_KEY", "HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH", "HTTP_AUTHORIZATION",
         "HTTP_COOKIE", "HTTP_X_HTTP_METHOD_OVERRIDE", "HTTP_TRANSFER_ENCODING", "HTTP_STRASSE",
         "HTTP_A_B_C", "HTTP_X_", "HTTP_", "CONTENT_TYPE", "CONTENT_LENGTH", "REQUEST_METHOD",
         "PATH_INFO", "wsgi.input", "SERVER_NAME"]


@settings(max_examples=300, deadline=None)
@given(environ=st.dictionaries(st.sampled_from(_KEYS), st.sampled_from(["", "v", "1", "a, b"]),
                               max_size=10),
       names=st.lists(st.sampled_from(_NAMES), min_size=1, max_size=4))
def test_environ_lookups_answer_as_the_pairs_do(environ: dict[str, Any],
                                                names: list[str]) -> None:
    headers = EnvironHeaders(environ)
    lazy, built = HeaderMap.of(headers), HeaderMap(list(headers))
    for name in names:
        assert lazy.get_all(name) == built.get_all(name), name
        assert lazy.get(name) == built.get(name), name
        assert lazy.only(name) == built.only(name), name
        assert (name in lazy) == (name in built), name
    assert lazy.isdisjoint(tuple(names)) == built.isdisjoint(tuple(names))
    # The guard asks about a constant group: answered by one lookup of each environ key
    # (names with a CGI key, CONTENT_TYPE/CONTENT_LENGTH, one by one).
    group = HeaderGroup(names)
    assert lazy.sends_any(group) == (not built.isdisjoint(group.names))
    assert sorted(lazy.names()) == sorted(built.names())


def test_environ_headers_are_the_pairs_a_server_means() -> None:
    environ = {"HTTP_X_API_KEY": "k", "CONTENT_TYPE": "application/json", "CONTENT_LENGTH": "",
               "REQUEST_METHOD": "POST", "HTTP_ACCEPT": "*/*"}
    headers = EnvironHeaders(environ)
    assert sorted(headers) == [("accept", "*/*"), ("content-type", "application/json"),
                               ("x-api-key", "k")]
    assert len(headers) == 3
    assert HeaderMap.of(headers).get("content-length") is None  # empty means absent
    assert HeaderMap.of(headers).get("x-api-key") == "k"


@settings(max_examples=300, deadline=None)
@given(raw=st.lists(st.tuples(st.sampled_from([b"X-Api-Key", b"x-api-key", b"Content-Type",
                                               b"cookie", b"Cookie", b"\xe9t\xe9", b""]),
                              st.binary(max_size=4)), max_size=8),
       names=st.lists(st.sampled_from([*_NAMES, "\xe9t\xe9"]), min_size=1, max_size=4))
def test_scope_headers_map_as_their_decoded_pairs(raw: list[tuple[bytes, bytes]],
                                                  names: list[str]) -> None:
    headers = ScopeHeaders(raw)
    pairs = [(k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in raw]
    assert list(headers) == pairs  # repeats and their order kept
    lazy, built = HeaderMap.of(headers), HeaderMap(pairs)
    for name in names:
        assert lazy.get_all(name) == built.get_all(name), name
        assert lazy.only(name) == built.only(name), name
    assert lazy.isdisjoint(tuple(names)) == built.isdisjoint(tuple(names))


@settings(max_examples=300, deadline=None)
@given(raw=st.lists(st.tuples(st.sampled_from([b"X-Api-Key", b"x-api-key", b"Content-Type",
                                               b"content-type", b"cookie", b"Cookie",
                                               b"\xe9t\xe9", b"", b"host", b"Accept"]),
                              st.binary(max_size=4)), max_size=8),
       wanted=st.lists(st.sampled_from([*_NAMES, "accept"]), max_size=5),
       names=st.lists(st.sampled_from([*_NAMES, "\xe9t\xe9", "host", "accept"]), min_size=1,
                      max_size=4))
def test_selected_scope_headers_answer_as_the_whole_map(
        raw: list[tuple[bytes, bytes]], wanted: list[str], names: list[str]) -> None:
    """The guard keeps only the headers it reads (ScopeHeaders.select); whatever it asks,
    about those or any other, is answered as the map of all the pairs answers it."""
    headers = ScopeHeaders(raw)
    built = HeaderMap([(k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in raw])
    chosen = HeaderNames(wanted)
    for _ in range(2):  # the second time, the raw names are known to the cache
        selected = headers.select(chosen)
        for name in names:
            assert selected.get(name) == built.get(name), name
            assert selected.get_all(name) == built.get_all(name), name
            assert selected.only(name) == built.only(name), name
            assert (name in selected) == (name in built), name
        assert selected.isdisjoint(tuple(names)) == built.isdisjoint(tuple(names))
        assert sorted(selected.names()) == sorted(built.names())
    # A group asked about on every request: by its places when the guard's names were
    # given it, by name otherwise.
    group = HeaderGroup(names)
    for chosen in (HeaderNames(wanted, [group]), HeaderNames(wanted)):
        assert headers.select(chosen).sends_any(group) == (not built.isdisjoint(group.names))


def test_selected_headers_keep_repeats_of_a_header_the_guard_reads() -> None:
    raw = [(b"Host", b"a"), (b"X-Api-Key", b"one"), (b"x-api-key", b"two"), (b"host", b"b")]
    selected = ScopeHeaders(raw).select(HeaderNames(["x-api-key"]))
    assert selected.get_all("x-api-key") == ["one", "two"]
    assert selected.only("x-api-key") is None  # sent twice: ambiguous
    assert selected.get_all("host") == ["a", "b"]  # not read by the guard, still answered


def test_header_names_remember_only_short_raw_names() -> None:
    chosen = HeaderNames(["X-Api-Key"])
    assert chosen.names == frozenset({"x-api-key"})
    long_name = b"X-" + b"a" * 500
    selected = ScopeHeaders([(long_name, b"v"), (b"X-API-KEY", b"k")]).select(chosen)
    assert selected.get("x-api-key") == "k"
    assert selected.get("x-" + "a" * 500) == "v"
    assert long_name not in chosen.raw
    assert chosen.raw[b"X-API-KEY"] == chosen.places["x-api-key"] == 0


def test_header_name_cache_keeps_no_long_client_names() -> None:
    from schemaguard import _http

    long_name = b"X-" + b"a" * 500
    assert HeaderMap.of(ScopeHeaders([(long_name, b"v")])).get("x-" + "a" * 500) == "v"
    assert long_name not in _http._RAW_NAMES
    HeaderMap.of(ScopeHeaders([(b"X-Short-Name", b"v")]))
    assert _http._RAW_NAMES[b"X-Short-Name"] == "x-short-name"


def test_scope_headers_from_any_iterable_of_pairs() -> None:
    """ASGI headers are an iterable of two-item iterables, not necessarily a list of tuples."""
    raw = [[b"X-Api-Key", b"k"], [b"Accept", b"*/*"]]
    headers = ScopeHeaders(iter(raw))  # type: ignore[arg-type]
    assert HeaderMap.of(headers).get("x-api-key") == "k"
    assert list(headers) == [("x-api-key", "k"), ("accept", "*/*")]
    for pairs in (raw, tuple(raw), [tuple(pair) for pair in raw]):  # a list of lists too
        assert HeaderMap.of(ScopeHeaders(pairs)).get("accept") == "*/*"  # type: ignore[arg-type]


def test_http_request_is_still_the_dataclass_users_build() -> None:
    """HttpRequest has an __init__ of its own (compiled); fields, defaults, keywords,
    equality and dataclasses.replace are the dataclass's."""
    import dataclasses

    request = HttpRequest("POST", "/p", body=b"{}", headers=[("a", "b")])
    assert (request.query, request.client_cert, request.client) == ("", None, None)
    assert request == HttpRequest("POST", "/p", "", [("a", "b")], b"{}")
    assert dataclasses.replace(request, path="/q").path == "/q"
    assert [f.name for f in dataclasses.fields(HttpRequest)] == [
        "method", "path", "query", "headers", "body", "client_cert", "client"]
    with pytest.raises(TypeError):
        HttpRequest("GET")  # type: ignore[call-arg]


@settings(max_examples=300, deadline=None)
@given(pairs=st.lists(st.tuples(st.sampled_from(["X-Api-Key", "x-api-key", "Content-Type",
                                                 "cookie", "\xe9T\xe9", ""]),
                                st.sampled_from(["", "v", "a, b"])), max_size=6),
       names=st.lists(st.sampled_from([*_NAMES, "\xe9t\xe9", ""]), min_size=1, max_size=4))
def test_pairs_map_as_the_full_map(pairs: list[tuple[str, str]], names: list[str]) -> None:
    """HeaderMap.of(pairs) keeps one value per name when no name repeats (most requests):
    it answers exactly as the map of lists does, repeats or not."""
    lazy, built = HeaderMap.of(pairs), HeaderMap(pairs)
    for name in names:
        assert lazy.get_all(name) == built.get_all(name), name
        assert lazy.get(name) == built.get(name), name
        assert (name in lazy) == (name in built), name
        # only(): the value of a header sent exactly once, else None
        values = built.get_all(name)
        assert lazy.only(name) == built.only(name) == (values[0] if len(values) == 1 else None)
    assert lazy.isdisjoint(tuple(names)) == built.isdisjoint(tuple(names))
    group = HeaderGroup(names)
    assert lazy.sends_any(group) == built.sends_any(group) == (not built.isdisjoint(group.names))
    assert lazy.names() == built.names()


def test_header_names_count_each_name_once() -> None:
    chosen = HeaderNames(["Content-Type", "content-type", "X-Trace"])
    assert chosen.count == 2
    assert chosen.places == {"content-type": 0, "x-trace": 1}
    selected = ScopeHeaders([(b"x-other", b"o")]).select(chosen)
    assert chosen.raw == {b"x-other": -1}  # met, and not read by the guard
    assert selected.get("x-other") == "o"
    assert "content-type" not in selected
    assert 42 not in selected


def test_environ_headers_from_a_mapping_that_is_not_a_dict() -> None:
    """PEP 3333 environs are dicts; any other mapping is read as the dict of what it holds."""
    from types import MappingProxyType

    environ = MappingProxyType({"HTTP_X_API_KEY": "k", "CONTENT_TYPE": "text/plain"})
    headers = HeaderMap.of(EnvironHeaders(environ))
    assert headers.get("x-api-key") == "k"
    assert headers.only("content-type") == "text/plain"
    assert headers.isdisjoint(("x-http-method-override", "x-method-override"))
