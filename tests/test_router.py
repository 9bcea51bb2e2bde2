"""The router: base paths, literal-over-template, multi-parameter segments, 404 vs 405."""

from __future__ import annotations

import time

import pytest

from schemaguard import SpecError
from schemaguard._router import Router, SegmentTemplate, base_paths


def router(*templates: str, methods: tuple[str, ...] = ("GET",), bases: tuple[str, ...] = ("",)
           ) -> Router[str]:
    built: Router[str] = Router(bases)
    for template in templates:
        route = built.add(template)
        for method in methods:
            route.operations[method] = f"{method} {template}"
    return built


@pytest.mark.parametrize(
    ("path", "operation", "params"),
    [
        ("/users/me", "GET /users/me", {}),
        ("/users/42", "GET /users/{id}", {"id": "42"}),
        ("/users/42/posts", "GET /users/{id}/posts", {"id": "42"}),
        ("/users/me/posts", "GET /users/{id}/posts", {"id": "me"}),  # backtracks past `me`
        ("/files/report.pdf", "GET /files/{name}.{ext}", {"name": "report", "ext": "pdf"}),
        ("/files/report", "GET /files/{name}", {"name": "report"}),
        ("/exports/csv-20240101-20240201", "GET /exports/{kind}-{from}-{to}",
         {"kind": "csv", "from": "20240101", "to": "20240201"}),
        ("/", "GET /", {}),
    ],
    ids=["literal", "template", "nested", "backtrack", "two-in-segment", "one-in-segment",
         "three-in-segment", "root"],
)
def test_matches(path: str, operation: str, params: dict[str, str]) -> None:
    built = router("/users/me", "/users/{id}", "/users/{id}/posts", "/files/{name}.{ext}",
                   "/files/{name}", "/exports/{kind}-{from}-{to}", "/")
    match = built.match("GET", path)
    assert match is not None
    assert (match.operation, match.params) == (operation, params)


@pytest.mark.parametrize(
    "path",
    ["/users/", "//users", "/USERS", "/users;x=1", "/users/1/", "/nope", "/users/1/posts/2",
     "/exports/csv-2024", ""],
)
def test_unknown_paths_do_not_match(path: str) -> None:
    built = router("/users", "/users/{id}", "/users/{id}/posts", "/exports/{kind}-{from}-{to}")
    assert built.match("GET", path) is None


def test_wrong_method_gives_allow_with_head_for_get() -> None:
    built: Router[str] = Router([""])
    route = built.add("/users/{id}")
    route.operations.update({"GET": "get", "DELETE": "delete"})
    match = built.match("PUT", "/users/1")
    assert match is not None
    assert match.operation is None
    assert match.allow == ("DELETE", "GET", "HEAD")


def test_head_uses_get_when_not_declared() -> None:
    built = router("/users")
    match = built.match("HEAD", "/users")
    assert match is not None
    assert match.operation == "GET /users"


def test_methods_are_case_sensitive() -> None:
    match = router("/users").match("get", "/users")
    assert match is not None
    assert match.operation is None


def test_a_template_with_the_method_wins_over_a_literal_without_it() -> None:
    built: Router[str] = Router([""])
    built.add("/users/me").operations["GET"] = "me"
    built.add("/users/{id}").operations["DELETE"] = "delete"
    match = built.match("DELETE", "/users/me")
    assert match is not None
    assert match.operation == "delete"


@pytest.mark.parametrize("dashes", [2000, 8000])
def test_multi_parameter_segments_match_in_linear_time(dashes: int) -> None:
    built = router("/exports/{kind}-{from}-{to}", "/r/{from}-{to}")
    started = time.perf_counter()
    built.match("GET", "/exports/" + "-" * dashes + "/x")
    built.match("GET", "/exports/" + "-" * dashes)
    built.match("GET", "/r/" + "-" * dashes)
    assert time.perf_counter() - started < 0.05


@pytest.mark.parametrize(
    ("segment", "value", "expected"),
    [
        ("{a}-{b}", "x-y-z", {"a": "x", "b": "y-z"}),  # first separator splits
        ("{a}-{b}", "-y", None),  # parameters are never empty
        ("{a}-{b}", "x-", None),
        ("v{n}", "v2", {"n": "2"}),
        ("v{n}", "w2", None),
        ("{n}.json", "a.b.json", {"n": "a.b"}),
    ],
)
def test_segment_templates(segment: str, value: str, expected: dict[str, str] | None) -> None:
    assert SegmentTemplate.parse(segment, "/" + segment).match(value) == expected


def test_adjacent_parameters_are_refused() -> None:
    with pytest.raises(SpecError, match="adjacent parameters"):
        router("/x/{a}{b}")


@pytest.mark.parametrize(
    ("servers", "expected"),
    [
        (None, [""]),
        ([{"url": "http://localhost/v1"}], ["/v1"]),
        ([{"url": "/api/"}], ["/api"]),
        ([{"url": "https://api.example.com"}], [""]),
        ([{"url": "https://{host}/{version}",
           "variables": {"host": {"default": "x"},
                         "version": {"default": "v1", "enum": ["v1", "v2"]}}}], ["/v1", "/v2"]),
        ([{"url": "/a"}, {"url": "/b/c"}], ["/a", "/b/c"]),
    ],
    ids=["none", "absolute", "relative", "no-path", "variables", "several"],
)
def test_base_paths(servers: object, expected: list[str]) -> None:
    assert base_paths(servers) == expected


def test_base_path_is_required_and_longest_wins() -> None:
    built = router("/pets", bases=("/v1", "/v1/beta"))
    assert built.match("GET", "/pets") is None
    assert built.match("GET", "/v1/pets") is not None
    assert built.match("GET", "/v1/beta/pets") is not None
    assert built.match("GET", "/v1pets") is None
