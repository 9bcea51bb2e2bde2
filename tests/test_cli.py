"""The command line, run as a user runs it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import schemaguard
from schemaguard.cli import main

SPECS = Path(__file__).parent.parent / "specs"


def test_inspect_compiles_and_checks_examples(capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["inspect", str(SPECS / "petstore-3.1.yaml")]) == 0
    out = capsys.readouterr().out
    assert "OpenAPI 3.1.0 (oas31)" in out
    body = "/paths/~1pets/post/requestBody/content/application~1json/schema"
    assert f"compiled  {body}  [request]" in out
    assert " 0 rejected" in out


def test_inspect_reports_a_rejected_example(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    spec = tmp_path / "openapi.yaml"
    spec.write_text(
        "openapi: 3.1.0\ninfo: {title: t, version: '1'}\npaths:\n  /a:\n    post:\n"
        "      requestBody:\n        content:\n          application/json:\n"
        "            schema: {type: object, required: [n], properties: {n: {type: integer}}}\n"
        "            examples:\n              good: {value: {n: 1}}\n"
        "              bad: {value: {n: one}}\n"
        "      responses: {'200': {description: ok}}\n"
    )
    assert main(["inspect", str(spec)]) == 1
    out = capsys.readouterr().out
    media = "/paths/~1a/post/requestBody/content/application~1json"
    assert f"accepted  example {media}/examples/good/value" in out
    assert f"rejected  example {media}/examples/bad/value: expected integer at `/n` (type)" in out


def test_inspect_reports_spec_errors(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    spec = tmp_path / "openapi.yaml"
    spec.write_text("swagger: '2.0'\n")
    assert main(["inspect", str(spec)]) == 1
    assert "OpenAPI 2.0 (Swagger) is not supported" in capsys.readouterr().out


def test_python_dash_m_and_version() -> None:
    result = subprocess.run([sys.executable, "-m", "schemaguard", "--version"],
                            capture_output=True, text=True, check=True)
    assert result.stdout.strip() == f"schemaguard {schemaguard.__version__}"
