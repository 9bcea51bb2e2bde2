"""Exact `schemaguard check` output for one spec, in each format.

The expected output is written out here, not stored in snapshot files, so a change to the
output shows up in review as a change to this file. The spec is
specs/check/invalid/SG011-snapshot.yaml: one error, three warnings and a note.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from schemaguard import __version__
from schemaguard._lint import RULES
from schemaguard.cli import main

ROOT = Path(__file__).parent.parent
SPEC = "specs/check/invalid/SG011-snapshot.yaml"  # relative: output shows it as given

EXPECTED_TEXT = """\
specs/check/invalid/SG011-snapshot.yaml:8:5: warning SG101 GET /users/{userId} has no security
specs/check/invalid/SG011-snapshot.yaml:13:9: warning SG027 quote the response code: '200'
specs/check/invalid/SG011-snapshot.yaml:14:3: info SG013 `/users/me` shadows `/users/{userId}` for that value
specs/check/invalid/SG011-snapshot.yaml:15:5: warning SG101 GET /users/me has no security
specs/check/invalid/SG011-snapshot.yaml:16:7: error SG011 operationId `getUser` is also used by GET /users/{userId}
1 errors, 3 warnings, 1 notes
"""  # noqa: E501 - one finding per line, as printed

EXPECTED_JSON = [
    {"rule": "SG101", "severity": "warning", "message": "GET /users/{userId} has no security",
     "file": SPEC, "line": 8, "column": 5, "pointer": "/paths/~1users~1{userId}/get"},
    {"rule": "SG027", "severity": "warning", "message": "quote the response code: '200'",
     "file": SPEC, "line": 13, "column": 9,
     "pointer": "/paths/~1users~1{userId}/get/responses/200"},
    {"rule": "SG013", "severity": "info",
     "message": "`/users/me` shadows `/users/{userId}` for that value",
     "file": SPEC, "line": 14, "column": 3, "pointer": "/paths/~1users~1me"},
    {"rule": "SG101", "severity": "warning", "message": "GET /users/me has no security",
     "file": SPEC, "line": 15, "column": 5, "pointer": "/paths/~1users~1me/get"},
    {"rule": "SG011", "severity": "error",
     "message": "operationId `getUser` is also used by GET /users/{userId}",
     "file": SPEC, "line": 16, "column": 7, "pointer": "/paths/~1users~1me/get/operationId"},
]

SARIF_LEVELS = {"error": "error", "warning": "warning", "info": "note"}


@pytest.fixture(autouse=True)
def _at_the_repository_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)


def _check(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(["check", *argv])
    out, err = capsys.readouterr()
    assert err == ""
    return code, out


def test_text(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = _check(capsys, SPEC)
    assert code == 1
    assert out == EXPECTED_TEXT
    assert "\033[" not in out  # capsys is not a terminal: no color


def test_text_is_colored_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    terminal = Terminal()
    monkeypatch.setattr("sys.stdout", terminal)
    assert main(["check", SPEC]) == 1
    lines = terminal.getvalue().splitlines()
    assert lines[0] == (f"{SPEC}:8:5: \033[33mwarning\033[0m SG101 GET /users/{{userId}} has "
                        "no security")
    assert f"{SPEC}:14:3: \033[36minfo\033[0m SG013 " in lines[2]
    assert f"{SPEC}:16:7: \033[31merror\033[0m SG011 " in lines[4]
    assert lines[-1] == "1 errors, 3 warnings, 1 notes"  # the summary stays plain


def test_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = _check(capsys, "--format", "json", SPEC)
    assert code == 1
    assert json.loads(out) == EXPECTED_JSON
    assert out.endswith("]\n")


def test_json_when_clean(capsys: pytest.CaptureFixture[str]) -> None:
    assert _check(capsys, "--format", "json", "specs/check/valid/clean-3.1.yaml") == (0, "[]\n")


def _validate_sarif(log: dict[str, Any]) -> list[dict[str, Any]]:
    """The structure GitHub code scanning needs from a SARIF 2.1.0 log; returns the results."""
    assert log["version"] == "2.1.0"
    assert "sarif" in log["$schema"]
    [run] = log["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"] == "schemaguard"
    assert driver["version"] == __version__
    assert [r["id"] for r in driver["rules"]] == list(RULES)
    for rule in driver["rules"]:
        severity, summary = RULES[rule["id"]]
        assert rule["shortDescription"]["text"] == summary
        assert rule["defaultConfiguration"]["level"] == SARIF_LEVELS[severity]
    for result in run["results"]:
        assert result["ruleId"] in RULES
        assert result["level"] == SARIF_LEVELS[RULES[result["ruleId"]][0]]
        assert result["message"]["text"]
        [location] = result["locations"]
        physical = location["physicalLocation"]
        assert physical["artifactLocation"]["uri"]
        assert physical["region"]["startLine"] >= 1
        assert physical["region"]["startColumn"] >= 1
        assert result["partialFingerprints"]["schemaguard/v1"].startswith(result["ruleId"])
    results: list[dict[str, Any]] = run["results"]
    return results


def test_sarif(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = _check(capsys, "--format", "sarif", SPEC)
    assert code == 1
    results = _validate_sarif(json.loads(out))
    assert [(r["ruleId"], r["level"], r["locations"][0]["physicalLocation"]["region"]["startLine"])
            for r in results] == [("SG101", "warning", 8), ("SG027", "warning", 13),
                                  ("SG013", "note", 14), ("SG101", "warning", 15),
                                  ("SG011", "error", 16)]
    assert {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            for r in results} == {SPEC}
    assert results[4]["message"]["text"] == EXPECTED_JSON[4]["message"]


def test_sarif_for_a_finding_without_a_line(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    """An SG001 the loader cannot place still gets a region SARIF accepts."""
    spec = tmp_path / "openapi.json"
    spec.write_text('{"openapi": "3.1.0",\n "x-n": ' + "1" * 5000 + "}", "utf-8")
    code, out = _check(capsys, "--format", "sarif", str(spec))
    assert code == 1
    [result] = _validate_sarif(json.loads(out))
    assert result["ruleId"] == "SG001"


def test_sarif_when_clean(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = _check(capsys, "--format", "sarif", "specs/check/valid/clean-3.1.yaml")
    assert code == 0
    assert _validate_sarif(json.loads(out)) == []
