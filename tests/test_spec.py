"""load_spec: versions, references, files, and where errors point."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

import schemaguard as sg

SPECS = Path(__file__).parent.parent / "specs"
ALL_SPECS = [*sorted(SPECS.glob("*.yaml")), SPECS / "multifile" / "openapi.yaml"]
INFO = {"title": "t", "version": "1"}


@pytest.mark.parametrize("path", ALL_SPECS, ids=lambda p: p.relative_to(SPECS).as_posix())
def test_bundled_specs_load_and_their_examples_conform(path: Path) -> None:
    spec = sg.load_spec(path)
    assert spec.dialect in ("oas30", "oas31")
    for example in spec.index.examples:
        validator = sg._schema.compile_at(spec, example.schema_pointer, context=example.context,
                                          uri=example.schema_uri)
        value: Any = spec.document(example.uri).content
        for token in example.pointer.strip("/").split("/"):
            token = token.replace("~1", "/").replace("~0", "~")
            value = value[int(token)] if isinstance(value, list) else value[token]
        assert validator.is_valid(value), (example.pointer, list(validator.iter_violations(value)))


@pytest.mark.parametrize(
    ("document", "message", "pointer"),
    [
        ({"swagger": "2.0"}, "OpenAPI 2.0 (Swagger) is not supported", "/swagger"),
        ({"openapi": 3.1}, "quote it", "/openapi"),
        ({"openapi": "4.0.0"}, "unsupported OpenAPI version", "/openapi"),
        ({"info": INFO}, "`openapi` must be a version string", ""),
        ({"openapi": "3.1.0", "jsonSchemaDialect": "https://example.com/x"},
         "unsupported `jsonSchemaDialect`", "/jsonSchemaDialect"),
        ({"openapi": "3.1.0", "paths": []}, "expected an object", "/paths"),
        ({"openapi": "3.0.3", "paths": {"/a": {"get": {"parameters": {}}}}},
         "expected an array of parameters", "/paths/~1a/get/parameters"),
        ({"openapi": "3.0.3", "paths": {"/a": {"$ref": "#/x"}}}, "unresolvable reference",
         "/paths/~1a/$ref"),
        ({"openapi": "3.0.3", "components": {"schemas": {"A": {"$ref": "#/components/schemas/B"}}}},
         "unresolvable reference `#/components/schemas/B`", "/components/schemas/A/$ref"),
        ({"openapi": "3.1.0", "components": {"schemas": {"A": {"$ref": "#Foo"}}}},
         "only JSON-pointer fragments", "/components/schemas/A/$ref"),
        ({"openapi": "3.1.0", "components": {"schemas": {"A": {"$ref": "x.yaml"}}}},
         "pass `root=`", "/components/schemas/A/$ref"),
        ({"openapi": "3.1.0", "components": {"schemas": {"A": {"$ref": "https://e.com/s"}}}},
         "remote references are disabled", "/components/schemas/A/$ref"),
        ({"openapi": "3.1.0", "components": {"schemas": {"A": {"items": 3}}}},
         "must be a schema", "/components/schemas/A/items"),
        ({"openapi": "3.1.0", "components": {"schemas": {"A": {
            "$schema": "http://json-schema.org/draft-07/schema#"}}}},
         "own `$schema`", "/components/schemas/A/$schema"),
        ({"openapi": "3.1.0", "components": {"schemas": {"A": {
            "discriminator": {"propertyName": "t", "mapping": {"x": "Missing"}}}}}},
         "unresolvable reference", "/components/schemas/A/discriminator/mapping/x"),
        ({"openapi": "3.1.0", "components": {"schemas": {"A": {"anyOf": [
            {"$ref": "#/components/schemas/A"}]}}}},
         "unresolvable $ref cycle A → A", "/components/schemas/A"),
    ],
    ids=["swagger", "float-version", "version-4", "no-version", "dialect", "paths-list",
         "params-object", "path-item-ref", "schema-ref", "anchor-ref", "file-ref-mapping",
         "remote-ref", "items-number", "own-schema", "mapping-missing", "self-cycle"],
)
def test_unusable_specs_raise_spec_error(document: dict[str, Any], message: str,
                                          pointer: str) -> None:
    with pytest.raises(sg.SpecError, match=re.escape(message)) as info:
        sg.load_spec(document)
    assert info.value.pointer == pointer


def test_recursive_schemas_are_fine() -> None:
    spec = sg.load_spec(SPECS / "recursive.yaml")
    tree = sg.compile_schema({"$ref": "#/components/schemas/TreeNode"}, dialect="oas31", spec=spec)
    deep: dict[str, Any] = {"value": 1, "children": []}
    node = deep
    for _ in range(30):
        child: dict[str, Any] = {"value": 1, "children": []}
        node["children"].append(child)
        node = child
    assert tree.is_valid(deep)
    node["children"].append({"value": "x", "children": []})
    assert not tree.is_valid(deep)


def test_file_errors_carry_line_and_column(tmp_path: Path) -> None:
    (tmp_path / "openapi.yaml").write_text(
        "openapi: 3.1.0\ninfo: {title: t, version: '1'}\ncomponents:\n  schemas:\n"
        "    A:\n      type: string\n      minLength: -1\n"
    )
    with pytest.raises(sg.SpecError) as info:
        sg.load_spec(tmp_path / "openapi.yaml")
    error = info.value
    assert (error.line, error.column) == (7, 7)
    assert error.pointer == "/components/schemas/A/minLength"
    assert error.file is not None
    assert error.file.endswith("openapi.yaml")


def test_errors_in_referenced_files_name_that_file(tmp_path: Path) -> None:
    (tmp_path / "openapi.yaml").write_text(
        "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths: {}\ncomponents:\n  schemas:\n"
        "    A: {$ref: 'schemas/a.yaml#/A'}\n"
    )
    (tmp_path / "schemas").mkdir()
    (tmp_path / "schemas" / "a.yaml").write_text("A:\n  type: object\n  required: name\n")
    with pytest.raises(sg.SpecError) as info:
        sg.load_spec(tmp_path / "openapi.yaml")
    assert info.value.file is not None
    assert Path(info.value.file).resolve() == (tmp_path / "schemas" / "a.yaml").resolve()
    assert (info.value.line, info.value.pointer) == (3, "/A/required")


def test_sibling_and_parent_folder_refs_inside_the_root_load() -> None:
    spec = sg.load_spec(SPECS / "multifile" / "openapi.yaml")
    loaded = {spec.display(uri, "") for uri in spec._documents}
    assert {"schemas/pet.yaml#", "schemas/common.yaml#", "errors.yaml#"} <= loaded


def test_refs_outside_the_root_are_refused_unless_root_widens_it(tmp_path: Path) -> None:
    (tmp_path / "shared.yaml").write_text("Name: {type: string}\n")
    api = tmp_path / "api"
    api.mkdir()
    (api / "openapi.yaml").write_text(
        "openapi: 3.1.0\ninfo: {title: t, version: '1'}\ncomponents:\n  schemas:\n"
        "    N: {$ref: '../shared.yaml#/Name'}\n"
    )
    with pytest.raises(sg.SpecError, match="outside the spec's root folder"):
        sg.load_spec(api / "openapi.yaml")
    spec = sg.load_spec(api / "openapi.yaml", root=tmp_path)
    assert "shared.yaml#" in {spec.display(uri, "") for uri in spec._documents}


def test_retrieve_fetches_remote_refs_on_request() -> None:
    asked: list[str] = []

    def retrieve(uri: str) -> dict[str, Any]:
        asked.append(uri)
        return {"Name": {"type": "string", "maxLength": 2}}

    spec = sg.load_spec({"openapi": "3.1.0", "info": INFO, "components": {"schemas": {
        "N": {"$ref": "https://schemas.example/common.json#/Name"}}}}, retrieve=retrieve)
    assert asked == ["https://schemas.example/common.json"]
    validator = sg.compile_schema({"$ref": "#/components/schemas/N"}, dialect="oas31", spec=spec)
    assert not validator.is_valid("abc")


def test_a_failing_retrieve_is_a_spec_error() -> None:
    def retrieve(uri: str) -> bytes:
        raise OSError("boom")

    with pytest.raises(sg.SpecError, match="cannot retrieve"):
        sg.load_spec({"openapi": "3.1.0", "info": INFO, "components": {"schemas": {
            "N": {"$ref": "https://schemas.example/x.json"}}}}, retrieve=retrieve)


def test_ref_inside_an_example_is_data() -> None:
    sg.load_spec({"openapi": "3.1.0", "info": INFO, "paths": {"/a": {"post": {
        "requestBody": {"content": {"application/json": {
            "schema": {"type": "object"}, "example": {"$ref": "#/nowhere"}}}},
        "responses": {"200": {"description": "ok"}}}}}})


def test_jsonschema_dialect_draft4_compiles_as_draft4() -> None:
    spec = sg.load_spec({"openapi": "3.1.0", "info": INFO,
                         "jsonSchemaDialect": "http://json-schema.org/draft-04/schema#",
                         "components": {"schemas": {"I": {"type": "integer"}}}})
    assert spec.schema_dialect == "draft4"


def test_missing_file_is_a_spec_error(tmp_path: Path) -> None:
    with pytest.raises(sg.SpecError, match="no such file"):
        sg.load_spec(tmp_path / "nope.yaml")


def test_json_specs_load(tmp_path: Path) -> None:
    (tmp_path / "openapi.json").write_text(
        '{"openapi": "3.0.3", "info": {"title": "t", "version": "1"}, "paths": {}}'
    )
    assert sg.load_spec(tmp_path / "openapi.json").version == "3.0.3"
