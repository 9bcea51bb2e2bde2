"""`schemaguard check`: every rule over the corpus in specs/check, exit codes, flags, and input
that cannot be read.

The invalid corpus holds one small spec per rule (several for SG001), named after the rule;
the line each finding must land on carries a `# <- SGnnn` comment, and CASES below repeats it so
a reviewer sees the whole table in one place. Known bugs in src/ are pinned as strict xfails.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import schemaguard as sg
from schemaguard._lint import _BOUNDED_FORMATS, RULES, Finding, Unreadable, check_spec_file
from schemaguard.cli import main

ROOT = Path(__file__).parent.parent
SPECS = ROOT / "specs"
INVALID = SPECS / "check" / "invalid"
VALID = SPECS / "check" / "valid"


@dataclass(frozen=True)
class Case:
    """One invalid spec: the rule it is named after and where the finding must land."""

    file: str  # below specs/check/invalid
    rule: str
    line: int
    column: int | None  # None: any column
    severity: str
    exit: int  # `schemaguard check FILE` without flags
    also: frozenset[str] = field(default_factory=frozenset)  # other rules the file triggers
    lands_in: str | None = None  # the referenced file holding the finding (multi-file cases)

    @property
    def path(self) -> Path:
        return INVALID / self.file

    def __str__(self) -> str:
        return self.file


CASES = [
    # SG001: the spec cannot be loaded.
    Case("SG001-broken-yaml.yaml", "SG001", 8, 26, "error", 1),
    Case("SG001-missing-ref.yaml", "SG001", 12, 11, "error", 1),
    Case("SG001-openapi-2.yaml", "SG001", 2, 1, "error", 1),
    Case("SG001-duplicate-key.yaml", "SG001", 11, 3, "error", 1),
    Case("SG001-duplicate-key.json", "SG001", 5, 3, "error", 1),
    Case("SG001-billion-laughs.yaml", "SG001", 8, 10, "error", 1),
    Case("SG001-recursive-alias.yaml", "SG001", 7, 9, "error", 1),
    Case("SG001-python-object-tag.yaml", "SG001", 6, 12, "error", 1),
    Case("SG001-invalid-pattern.yaml", "SG001", 11, 7, "error", 1),
    Case("SG001-ref-outside-root.yaml", "SG001", 9, 7, "error", 1),
    Case("SG001-unsupported-version.yaml", "SG001", 1, 1, "error", 1),
    # SG002: the official OpenAPI schema.
    Case("SG002-missing-info.yaml", "SG002", 1, 1, "error", 1),
    Case("SG002-missing-responses.yaml", "SG002", 7, 5, "error", 1),
    # SG010..SG014: paths, operations, security requirements.
    # bad-inputs S26: template variable not declared, declared but not in the template,
    # `required: false`: each an error.
    Case("SG010-path-parameter-mismatch.yaml", "SG010", 9, 5, "error", 1),
    # The official schema also requires `required: true` on path parameters.
    Case("SG010-path-parameter-not-required.yaml", "SG010", 10, 9, "error", 1,
         also=frozenset({"SG002"})),
    Case("SG010-path-parameter-not-in-template.yaml", "SG010", 20, 5, "error", 1),
    Case("SG011-duplicate-operation-id.yaml", "SG011", 18, 7, "error", 1),
    Case("SG011-snapshot.yaml", "SG011", 16, 7, "error", 1,
         also=frozenset({"SG013", "SG027", "SG101"})),
    # bad-inputs S24: equivalent templates are an error, concrete-vs-template is info.
    Case("SG012-equivalent-path-templates.yaml", "SG012", 16, 3, "error", 1),
    Case("SG013-concrete-path-shadows-template.yaml", "SG013", 16, 3, "info", 0),
    # bad-inputs S22: a scheme referenced but undefined is an error.
    Case("SG014-undefined-security-scheme.yaml", "SG014", 11, 11, "error", 1),
    Case("SG014-undefined-global-scheme.yaml", "SG014", 6, 5, "error", 1),
    # SG020..SG030: schemas, examples, YAML surprises.
    Case("SG020-example-does-not-validate.yaml", "SG020", 12, 11, "warning", 0),
    Case("SG021-default-does-not-validate.yaml", "SG021", 12, 7, "warning", 0),
    # bad-inputs S30: unknown format warns (more in test_s30_*).
    Case("SG022-unknown-format.yaml", "SG022", 11, 7, "warning", 0),
    # bad-inputs S23: $ref siblings warn in 3.0 (3.1: test_s23_*).
    Case("SG023-ref-siblings-ignored.yaml", "SG023", 14, 9, "warning", 0),
    Case("SG024-pattern-needs-backtracking.yaml", "SG024", 11, 7, "warning", 0),
    Case("SG025-nested-quantifier.yaml", "SG025", 11, 7, "warning", 0),
    Case("SG026-yaml11-boolean.yaml", "SG026", 12, 11, "warning", 0),
    Case("SG026-yaml11-boolean-value.yaml", "SG026", 11, 7, "warning", 0),
    Case("SG027-unquoted-response-code.yaml", "SG027", 12, 9, "warning", 0),
    Case("SG028-nullable-in-3.1.yaml", "SG028", 11, 7, "warning", 0),
    # bad-inputs S29: `nullable` without `type` in 3.0 (the rest: test_s29_*).
    Case("SG028-nullable-without-type.yaml", "SG028", 10, 7, "warning", 0),
    # bad-inputs S31: readOnly+writeOnly is an error (it can be sent in neither direction).
    Case("SG029-read-only-and-write-only.yaml", "SG029", 11, 9, "error", 1),
    # bad-inputs S28: a body media type without a schema warns (the rest: test_s28_*).
    Case("SG030-request-body-without-schema.yaml", "SG030", 14, 11, "warning", 0),
    Case("SG031-python-differs.yaml", "SG031", 18, 52, "warning", 0),
    # bad-inputs S27: a serialization the guard refuses is an error (more: test_s27_*).
    # Its objects are open: SG104 (parameters are request input too).
    Case("SG032-nested-deep-object.yaml", "SG032", 12, 11, "error", 1,
         also=frozenset({"SG104"})),
    # bad-inputs S35: a path without operations warns (operations: test_s35_*).
    Case("SG033-path-without-operations.yaml", "SG033", 8, 3, "warning", 0),
    # bad-inputs S31: a readOnly property in `required` is info.
    Case("SG034-read-only-required.yaml", "SG034", 22, 7, "info", 0),
    # bad-inputs S25: two `format: date` values in one segment warn (more: test_s25_*).
    Case("SG035-ambiguous-segment.yaml", "SG035", 9, 5, "warning", 0),
    Case("SG036-bad-rate-limit.yaml", "SG036", 10, 7, "error", 1, also=frozenset({"SG101"})),
    Case("SG037-x-sensitive-not-boolean.yaml", "SG037", 14, 11, "warning", 0),
    # bad-inputs S25: several parameters in one segment that split cleanly are a note.
    Case("SG038-shared-segment.yaml", "SG038", 9, 5, "info", 0),
    # SG101..SG107: security lints.
    Case("SG101-operation-without-security.yaml", "SG101", 7, 5, "warning", 0),
    # bad-inputs S22: apiKey in query and credentials over http warn (more: test_s22_*).
    Case("SG102-api-key-in-query.yaml", "SG102", 16, 5, "warning", 0),
    Case("SG103-credentials-over-http.yaml", "SG103", 18, 5, "warning", 0),
    # bad-inputs S17: open request objects and unbounded request strings/arrays warn
    # (the other unbounded keywords: test_s17_*).
    Case("SG104-mass-assignment.yaml", "SG104", 22, 5, "warning", 0),
    Case("SG105-unbounded-string.yaml", "SG105", 19, 17, "warning", 0),
    Case("SG105-unbounded-array.yaml", "SG105", 15, 13, "warning", 0),
    Case("SG105-multifile/openapi.yaml", "SG105", 6, 5, "warning", 0,
         also=frozenset({"SG022"}), lands_in="SG105-multifile/schemas/x.yaml"),
    Case("SG106-secured-without-401.yaml", "SG106", 11, 7, "warning", 0),
    # bad-inputs S22: `security: []` on a write warns.
    Case("SG107-write-operation-opened.yaml", "SG107", 16, 7, "warning", 0),
]

# Every spec that must have no error-level finding: the fixtures, and the valid corpus.
EXISTING_SPECS = [*sorted(SPECS.glob("*.yaml")), SPECS / "multifile" / "openapi.yaml"]


def _id(path: Path) -> str:
    return path.relative_to(SPECS).as_posix()


def _findings(path: Path | str) -> list[Finding]:
    return check_spec_file(str(path))


def _show(findings: list[Finding]) -> str:
    return "\n".join(f"  {f.rule} {f.severity} {f.file}:{f.line}:{f.column} {f.pointer} "
                     f"{f.message}" for f in findings) or "  (no findings)"


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


# -- the invalid corpus ------------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=str)
def test_rule_fires_at_the_expected_place(case: Case) -> None:
    findings = _findings(case.path)
    hits = [f for f in findings if f.rule == case.rule and f.line == case.line
            and (case.column is None or f.column == case.column)]
    assert hits, f"{case.rule} expected at {case.line}:{case.column}; got\n{_show(findings)}"
    for hit in hits:
        assert hit.severity == case.severity == RULES[case.rule][0]
        assert hit.message
        expected_file = INVALID / (case.lands_in or case.file)
        assert hit.file is not None
        if case.lands_in is None:
            assert hit.file == str(case.path)
        else:  # the file name of the referenced file, as the spec's folder sees it
            assert expected_file.as_posix().endswith(hit.file)
    unexpected = {f.rule for f in findings} - {case.rule} - case.also
    assert not unexpected, f"unexpected rules {sorted(unexpected)}:\n{_show(findings)}"


@pytest.mark.parametrize("case", [c for c in CASES if not c.file.endswith(".json")], ids=str)
def test_marker_comment_agrees_with_the_table(case: Case) -> None:
    """The `# <- SGnnn` comment in the spec sits on the line the table expects."""
    source = INVALID / (case.lands_in or case.file)
    lines = source.read_text("utf-8").splitlines()
    assert f"# <- {case.rule}" in lines[case.line - 1], lines[case.line - 1]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_exit_code_and_text_output(case: Case, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(capsys, "check", str(case.path))
    assert code == case.exit, out + err
    assert err == ""
    shown = str(case.path)
    if case.lands_in:  # named beside the root file as it was given
        shown = str(INVALID / case.lands_in)
    assert re.search(rf"^{re.escape(shown)}:{case.line}:\d+: {case.severity} {case.rule} ",
                     out, re.MULTILINE), out
    # --strict: warnings fail too, notes never do.
    strict = 1 if case.exit or case.severity != "info" else 0
    assert _run(capsys, "check", "--strict", str(case.path))[0] == strict


def test_every_corpus_file_is_in_the_table() -> None:
    on_disk = {p.relative_to(INVALID).as_posix() for p in INVALID.iterdir() if p.is_file()}
    on_disk |= {p.relative_to(INVALID).as_posix() for p in INVALID.glob("*/openapi.yaml")}
    assert on_disk == {c.file for c in CASES}
    for case in CASES:
        assert Path(case.file).name.startswith(case.rule) or \
            Path(case.file).parent.name.startswith(case.rule)


def test_every_rule_has_a_case() -> None:
    assert sorted(RULES) == sorted({c.rule for c in CASES})


def test_multifile_finding_points_into_the_referenced_file() -> None:
    case = next(c for c in CASES if c.lands_in)
    [finding] = [f for f in _findings(case.path) if f.rule == case.rule]
    assert finding.file is not None
    assert Path(finding.file).resolve() == (INVALID / str(case.lands_in)).resolve()
    assert (finding.line, finding.column) == (6, 5)
    assert finding.pointer == "/Item/properties/sku"
    referenced = (INVALID / case.lands_in).read_text("utf-8").splitlines()
    assert referenced[finding.line - 1].strip().startswith("sku:")


def test_multifile_finding_file_is_openable_from_the_working_directory(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    case = next(c for c in CASES if c.lands_in)
    [finding] = [f for f in _findings(case.path.relative_to(ROOT)) if f.rule == case.rule]
    assert finding.file is not None
    assert Path(finding.file).resolve() == (INVALID / str(case.lands_in)).resolve()


def test_schema_rules_follow_refs_into_other_files() -> None:
    case = next(c for c in CASES if c.lands_in)
    found = {(f.rule, Path(f.file or "").name, f.line) for f in _findings(case.path)}
    assert ("SG022", "x.yaml", 8) in found


# -- specs that must pass ----------------------------------------------------------------------


@pytest.mark.parametrize("path", EXISTING_SPECS, ids=_id)
def test_existing_specs_have_no_errors(path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    errors = [f for f in _findings(path) if f.severity == "error"]
    assert not errors, _show(errors)
    code, out, _ = _run(capsys, "check", str(path))
    assert code == 0, out
    assert re.search(r"^0 errors, \d+ warnings, \d+ notes$", out, re.MULTILINE)


def test_existing_specs_together_exit_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(capsys, "check", *map(str, EXISTING_SPECS))[0] == 0


_FALSE_POSITIVES: dict[str, str] = {}


@pytest.mark.parametrize("path", [
    pytest.param(p, id=p.name, marks=[pytest.mark.xfail(strict=True, reason=_FALSE_POSITIVES[
        p.name])] if p.name in _FALSE_POSITIVES else [])
    for p in sorted(VALID.iterdir())])
def test_valid_corpus_has_no_findings_at_all(path: Path) -> None:
    """Each valid spec is a near miss of some rules: nothing, not even a note, may fire."""
    findings = _findings(path)
    assert not findings, _show(findings)


_DUPLICATES: dict[str, str] = {}


@pytest.mark.parametrize("path", [
    pytest.param(p, id=_id(p), marks=[pytest.mark.xfail(strict=True, reason=(
        "bug: the same finding is reported more than once: " + _DUPLICATES[_id(p)]))]
        if _id(p) in _DUPLICATES else [])
    for p in [*EXISTING_SPECS, *(c.path for c in CASES)]])
def test_no_finding_is_reported_twice(path: Path) -> None:
    findings = _findings(path)
    repeated = [f for f in set(findings) if findings.count(f) > 1]
    assert not repeated, _show(repeated)


# -- --select, --ignore, --strict, baselines, several files ------------------------------------

SNAPSHOT = INVALID / "SG011-snapshot.yaml"  # SG011 error, SG013 note, SG027 + 2x SG101 warnings


def _rules_shown(out: str) -> list[str]:
    return re.findall(r": (?:error|warning|info) (SG\d{3}) ", out)


def test_select_and_ignore(capsys: pytest.CaptureFixture[str]) -> None:
    spec = str(SNAPSHOT)
    code, out, _ = _run(capsys, "check", spec)
    assert (code, sorted(_rules_shown(out))) == (1, ["SG011", "SG013", "SG027", "SG101",
                                                     "SG101"])
    code, out, _ = _run(capsys, "check", "--select", "SG011", spec)
    assert (code, _rules_shown(out)) == (1, ["SG011"])
    code, out, _ = _run(capsys, "check", "--select", "sg1", spec)  # a prefix, any case
    assert (code, _rules_shown(out)) == (0, ["SG101", "SG101"])
    code, out, _ = _run(capsys, "check", "--select", "SG013, SG027", spec)
    assert (code, _rules_shown(out)) == (0, ["SG027", "SG013"])
    code, out, _ = _run(capsys, "check", "--ignore", "SG011,SG1", spec)
    assert (code, _rules_shown(out)) == (0, ["SG027", "SG013"])
    code, out, _ = _run(capsys, "check", "--select", "SG0", "--ignore", "SG01", spec)
    assert (code, _rules_shown(out)) == (0, ["SG027"])
    assert out.splitlines()[-1] == "0 errors, 1 warnings, 0 notes"


def test_strict(capsys: pytest.CaptureFixture[str]) -> None:
    spec = str(SNAPSHOT)
    assert _run(capsys, "check", "--strict", "--ignore", "SG011", spec)[0] == 1
    assert _run(capsys, "check", "--strict", "--select", "SG013", spec)[0] == 0  # notes pass
    assert _run(capsys, "check", "--strict", str(VALID / "clean-3.1.yaml"))[0] == 0


def test_baseline_suppresses_known_findings_and_shows_new_ones(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    spec = tmp_path / "openapi.yaml"
    spec.write_text(SNAPSHOT.read_text("utf-8"), "utf-8")
    code, out, err = _run(capsys, "check", "--write-baseline", "baseline.json", "openapi.yaml")
    assert code == 0  # writing a baseline succeeds even though an error was found
    assert out == ""
    assert err == "wrote 5 findings to baseline.json\n"
    baseline = json.loads((tmp_path / "baseline.json").read_text("utf-8"))
    assert len(baseline) == 5  # the two SG101 differ by pointer and message
    assert all(entry.startswith("SG") for entry in baseline)

    code, out, _ = _run(capsys, "check", "--baseline", "baseline.json", "openapi.yaml")
    assert (code, out) == (0, "0 errors, 0 warnings, 0 notes\n")
    assert _run(capsys, "check", "--strict", "--baseline", "baseline.json",
                "openapi.yaml")[0] == 0

    # Lines move and a new problem appears: only the new one is reported.
    text = "# a comment that moves every line\n" + spec.read_text("utf-8")
    text += "  /orders:\n    get:\n      operationId: getUser\n"
    spec.write_text(text, "utf-8")
    code, out, _ = _run(capsys, "check", "--baseline", "baseline.json", "openapi.yaml")
    assert code == 1, out
    # The new operation's findings (3.1 allows an operation without responses: SG033 warns).
    assert sorted(_rules_shown(out)) == ["SG011", "SG033", "SG101"]
    assert "GET /orders" in out
    assert "GET /users/me" not in out


def test_baseline_does_not_depend_on_how_the_path_is_spelled(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "openapi.yaml").write_text(SNAPSHOT.read_text("utf-8"), "utf-8")
    assert _run(capsys, "check", "--write-baseline", "b.json", "openapi.yaml")[0] == 0
    for spelling in ("./openapi.yaml", str(tmp_path / "openapi.yaml")):
        assert _run(capsys, "check", "--baseline", "b.json", spelling)[0] == 0, spelling


def test_baseline_that_cannot_be_read(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = str(VALID / "clean-3.1.yaml")
    code, _, err = _run(capsys, "check", "--baseline", str(tmp_path / "missing.json"), spec)
    assert code == 2
    assert err.startswith("error: cannot read the baseline")
    (tmp_path / "bad.json").write_text("{not json", "utf-8")
    assert _run(capsys, "check", "--baseline", str(tmp_path / "bad.json"), spec)[0] == 2


# bad-inputs L17: several files, exit codes 0/1/2.
def test_several_files_highest_code_wins(capsys: pytest.CaptureFixture[str],
                                         tmp_path: Path) -> None:
    valid, warning = str(VALID / "clean-3.1.yaml"), str(INVALID / "SG022-unknown-format.yaml")
    error, missing = str(INVALID / "SG011-duplicate-operation-id.yaml"), str(tmp_path / "nope")
    assert _run(capsys, "check", valid, warning)[0] == 0
    code, out, _ = _run(capsys, "check", valid, error, warning)
    assert code == 1
    assert _rules_shown(out) == ["SG011", "SG022"]
    code, out, err = _run(capsys, "check", error, missing, valid)
    assert code == 2
    assert _rules_shown(out) == ["SG011"]  # the readable files are still reported
    assert len(err.splitlines()) == 1


def test_list_rules(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "check", "--list-rules")
    assert code == 0
    listed = [line.split()[:2] for line in out.splitlines()]
    assert listed == [[rule, severity] for rule, (severity, _) in RULES.items()]


@pytest.mark.parametrize("argv", [
    pytest.param(["check", "--select", "SG999", "x.yaml"], id="unknown-rule-select"),
    pytest.param(["check", "--ignore", "SG0,XX1", "x.yaml"], id="unknown-rule-ignore"),
    pytest.param(["check", "--frobnicate", "x.yaml"], id="unknown-flag"),
    pytest.param(["check", "--format", "xml", "x.yaml"], id="unknown-format"),
    pytest.param(["check"], id="no-files"),
    pytest.param(["check", "--strict"], id="no-files-with-flags"),
    pytest.param([], id="no-command"),
])
def test_usage_errors_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(capsys, *argv)
    assert code == 2
    assert out == ""
    assert err.strip()


# -- input that cannot be read -----------------------------------------------------------------

_MINIMAL = b'openapi: 3.1.0\ninfo: {title: t, version: "1"}\npaths: {}\n'

UNREADABLE = {
    "binary": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "the document is binary"),
    "not-utf-8": (b"openapi: 3.1.0\ninfo: {title: caf\xe9, version: '1'}\n",
                  "the document is not UTF-8 text (byte 32)"),
    "utf-16": ("openapi: 3.1.0\n".encode("utf-16"), "the document is binary"),  # NUL bytes
    "empty": (b"", "the document is empty"),
    "whitespace-only": (b" \n\t\n", "the document is empty"),
    "bom-only": (b"\xef\xbb\xbf", "the document is empty"),
    "json-array": (b'[{"openapi": "3.1.0"}]', "the document is not a mapping"),
    "json-string": (b'"openapi"', "the document is not a mapping"),
    "yaml-scalar": (b"just some words\n", "the document is not a mapping"),
    "yaml-list": (b"- openapi: 3.1.0\n", "the document is not a mapping"),
}


# bad-inputs S34: binary, non-UTF-8, 0 bytes, a JSON array: exit 2, one line, <= 1 s.
@pytest.mark.parametrize("name", sorted(UNREADABLE))
def test_unreadable_input_exits_2_quickly(name: str, tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    raw, message = UNREADABLE[name]
    path = tmp_path / ("spec.json" if name.startswith("json") else "spec.yaml")
    path.write_bytes(raw)
    started = time.perf_counter()
    code, _, err = _run(capsys, "check", str(path))
    assert time.perf_counter() - started < 1
    assert code == 2
    assert len(err.splitlines()) == 1, err
    assert err.startswith(f"error: {path}")
    assert message in err
    with pytest.raises(Unreadable):
        check_spec_file(str(path))


@pytest.mark.parametrize(("name", "raw"), [
    pytest.param("spec.yaml", b"a" * (16 << 20), id="16-MB-scalar"),
    pytest.param("spec.json", b'"' + b"a" * (16 << 20) + b'"', id="16-MB-json-string"),
])
def test_huge_single_line_exits_2(name: str, raw: bytes, tmp_path: Path,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    """bad-inputs S34: a huge single line (the row's 1 GB, scaled down) is still one line and
    exit 2; no time bound for huge input."""
    path = tmp_path / name
    path.write_bytes(raw)
    code, out, err = _run(capsys, "check", str(path))
    assert (code, out) == (2, "")
    assert err == f"error: {path}:1:1: the document is not a mapping (an OpenAPI object was " \
                  "expected)\n"


def test_a_2_mb_json_array_exits_2_within_1_second(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    """bad-inputs S34: "a JSON array at top level ... <= 1 s for non-huge inputs". The root's
    position comes from the parser's first event, not from composing the whole document
    again (that took ~2 s per MB; a 32 MB array took 93 s and 5 GB)."""
    path = tmp_path / "spec.json"
    path.write_text("[" + "1," * (1 << 20) + "1]", "utf-8")
    started = time.perf_counter()
    code, _, err = _run(capsys, "check", str(path))
    assert (code, len(err.splitlines())) == (2, 1)
    assert time.perf_counter() - started < 1


def test_missing_file_and_directory_exit_2(tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    for path in (tmp_path / "missing.yaml", tmp_path):
        started = time.perf_counter()
        code, _, err = _run(capsys, "check", str(path))
        assert time.perf_counter() - started < 1
        assert code == 2
        assert err == f"error: {path}: no such file\n"


# bad-inputs S34: a UTF-8 BOM is read, not refused, and shifts no location.
@pytest.mark.parametrize(("content", "code"), [
    pytest.param(_MINIMAL, 0, id="valid"),
    pytest.param((INVALID / "SG011-duplicate-operation-id.yaml").read_bytes(), 1, id="invalid"),
])
def test_utf8_bom_is_fine(content: bytes, code: int, tmp_path: Path,
                          capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "openapi.yaml"
    path.write_bytes(b"\xef\xbb\xbf" + content)
    result, out, err = _run(capsys, "check", str(path))
    assert (result, err) == (code, "")
    if code:  # locations are not shifted by the BOM
        assert f"{path}:18:7: error SG011 " in out


def test_control_character_is_reported_not_raised(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "openapi.yaml"
    path.write_bytes(_MINIMAL + b"x-note: bell \x07 here\n")
    assert _run(capsys, "check", str(path))[0] in (1, 2)


def test_huge_json_integer_is_not_called_deep_nesting(tmp_path: Path) -> None:
    path = tmp_path / "openapi.json"
    path.write_text('{"openapi": "3.1.0",\n "x-n": ' + "1" * 5000 + "}", "utf-8")
    [finding] = check_spec_file(str(path))
    assert finding.rule == "SG001"
    assert "nested" not in finding.message
    assert finding.line == 2



@pytest.mark.parametrize("text", [
    pytest.param("servers: 5\n", id="servers-not-a-list"),
    pytest.param("components: {securitySchemes: 5}\n", id="securitySchemes-not-a-mapping"),
    pytest.param("components: {securitySchemes: [{type: http}]}\n", id="securitySchemes-a-list"),
    pytest.param("security: 5\n", id="security-not-a-list"),
    pytest.param("servers: [5, {url: 7}]\n", id="server-not-a-mapping"),
    pytest.param("components: {securitySchemes: {a: 5}}\n", id="scheme-not-a-mapping"),
])
def test_wrong_types_are_reported_not_raised(text: str, tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "openapi.yaml"
    path.write_bytes(_MINIMAL + text.encode())
    code, out, _ = _run(capsys, "check", str(path))
    assert code == 1
    assert " error SG002 " in out


# -- stdin ---------------------------------------------------------------------------------------


def _stdin(monkeypatch: pytest.MonkeyPatch, raw: bytes) -> None:
    monkeypatch.setattr(sys, "stdin", SimpleNamespace(buffer=io.BytesIO(raw)))


# bad-inputs L17: `check -` reads stdin (pre-commit can pipe a spec).
@pytest.mark.parametrize(("raw", "code", "expected"), [
    pytest.param(_MINIMAL, 0, "0 errors, 0 warnings, 0 notes", id="valid"),
    pytest.param(b"\xef\xbb\xbf" + _MINIMAL, 0, "0 errors, 0 warnings, 0 notes", id="bom"),
    pytest.param((INVALID / "SG011-duplicate-operation-id.yaml").read_bytes(), 1,
                 "<stdin>:18:7: error SG011 ", id="invalid"),
    pytest.param((INVALID / "SG001-duplicate-key.yaml").read_bytes(), 1,
                 "<stdin>:11:3: error SG001 duplicate key", id="broken"),
    pytest.param((SPECS / "multifile" / "openapi.yaml").read_bytes(), 1,
                 "error SG001 reference to the file `./parameters.yaml`", id="relative-ref"),
])
def test_stdin(raw: bytes, code: int, expected: str, monkeypatch: pytest.MonkeyPatch,
               capsys: pytest.CaptureFixture[str]) -> None:
    _stdin(monkeypatch, raw)
    result, out, err = _run(capsys, "check", "-")
    assert (result, err) == (code, "")
    assert expected in out


# bad-inputs S34 (stdin): exit 2, one line, <= 1 s.
@pytest.mark.parametrize("raw", [b"", b"\x00\x01", b"\xff\xfe\xfd", b"[1, 2]", b"- a\n"],
                         ids=["empty", "binary", "not-utf-8", "json-array", "yaml-list"])
def test_unreadable_stdin_exits_2(raw: bytes, monkeypatch: pytest.MonkeyPatch,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    _stdin(monkeypatch, raw)
    started = time.perf_counter()
    code, _, err = _run(capsys, "check", "-")
    assert time.perf_counter() - started < 1
    assert code == 2
    assert len(err.splitlines()) == 1
    assert err.startswith("error: <stdin>")


def test_stdin_with_files(monkeypatch: pytest.MonkeyPatch,
                          capsys: pytest.CaptureFixture[str]) -> None:
    _stdin(monkeypatch, (INVALID / "SG022-unknown-format.yaml").read_bytes())
    code, out, _ = _run(capsys, "check", str(VALID / "clean-3.1.yaml"), "-")
    assert code == 0
    assert "<stdin>:11:7: warning SG022 " in out


# -- bad-inputs rows the corpus does not cover (specs built here) ------------------------------


def _doc(version: str = "3.1.0", **parts: Any) -> dict[str, Any]:
    return {"openapi": version, "info": {"title": "t", "version": "1"}, "paths": {}, **parts}


def _check_doc(tmp_path: Path, doc: dict[str, Any]) -> list[Finding]:
    path = tmp_path / "openapi.json"
    path.write_text(json.dumps(doc), "utf-8")
    return check_spec_file(str(path))


def _rule(findings: list[Finding], rule: str) -> list[tuple[str, str, str]]:
    return [(f.severity, f.pointer, f.message) for f in findings if f.rule == rule]


def _post(schema: Any, media_type: str = "application/json") -> dict[str, Any]:
    """`paths` with one operation taking a request body of ``media_type``."""
    return {"/items": {"post": {"operationId": "create",
                                "requestBody": {"content": {media_type: {"schema": schema}}},
                                "responses": {"201": {"description": "created"}}}}}


BODY = "/paths/~1items/post/requestBody/content/application~1json/schema"


@pytest.mark.parametrize(("schema", "pointer", "message"), [
    pytest.param({"type": "object", "additionalProperties": False,
                  "properties": {"n": {"type": "string", "pattern": "^[a-z]+$"}}},
                 "/properties/n", "string without `maxLength`", id="pattern"),
    pytest.param({"type": "object", "additionalProperties": False,
                  "properties": {"n": {"type": "string", "format": "uri"}}},
                 "/properties/n", "string without `maxLength`", id="format"),
    pytest.param({"type": "array", "uniqueItems": True, "items": {
        "type": "object", "additionalProperties": False,
        "properties": {"a": {"type": "integer"}}}},
                 "", "array without `maxItems`", id="uniqueItems-objects"),
    # A `pattern` or `format` without `type` beside it admits strings of any length.
    pytest.param({"type": "object", "additionalProperties": False,
                  "properties": {"n": {"pattern": "^[a-z]+$"}}},
                 "/properties/n", "maxLength", id="pattern-without-type"),
    pytest.param({"type": "object", "additionalProperties": False,
                  "properties": {"n": {"format": "uri"}}},
                 "/properties/n", "maxLength", id="format-without-type"),
    pytest.param({"type": "object", "additionalProperties": False,
                  "patternProperties": {"^x-": {"type": "integer"}}},
                 "", "propertyNames", id="patternProperties"),
])
def test_s17_unbounded_request_keywords_warn(schema: dict[str, Any], pointer: str, message: str,
                                            tmp_path: Path) -> None:
    """bad-inputs S17: pattern/format without maxLength, patternProperties without
    propertyNames, uniqueItems over objects without maxItems: a warning in a request."""
    found = _rule(_check_doc(tmp_path, _doc(paths=_post(schema))), "SG105")
    assert [(s, p) for s, p, m in found if message in m] == [("warning", BODY + pointer)], found


@pytest.mark.parametrize(("version", "schema"), [
    # The parent string bounds what its applicators see.
    pytest.param("3.1.0", {"type": "string", "maxLength": 8,
                           "anyOf": [{"pattern": "^a"}, {"format": "uri"}],
                           "not": {"pattern": "^ab"}}, id="applicators-of-a-bounded-string"),
    pytest.param("3.1.0", {"pattern": "^[a-z]+$", "maxLength": 8}, id="untyped-bounded"),
    pytest.param("3.1.0", {"format": "int32"}, id="number-format-without-type"),
    pytest.param("3.1.0", {"format": "uuid"}, id="short-format-without-type"),
    pytest.param("3.1.0", {"type": "object", "additionalProperties": False,
                           "propertyNames": {"maxLength": 16},
                           "patternProperties": {"^x-": {"type": "integer"}}},
                 id="patternProperties-with-propertyNames"),
])
def test_s17_bounded_request_keywords_pass(version: str, schema: dict[str, Any],
                                          tmp_path: Path) -> None:
    """bad-inputs S17, the near misses: nothing unbounded, nothing reported."""
    assert _rule(_check_doc(tmp_path, _doc(version, paths=_post(schema))), "SG105") == []


SCHEMES = "/components/securitySchemes"


def test_s22_unknown_security_scheme_type_is_an_error(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """bad-inputs S22 says warn: the official schema makes it an error (SG002)."""
    doc = _doc(components={"securitySchemes": {"k": {"type": "magic"}}})
    found = _rule(_check_doc(tmp_path, doc), "SG002")
    assert [(s, p) for s, p, _ in found] == [("error", f"{SCHEMES}/k/type")], found
    assert '"apiKey", "http"' in found[0][2]
    assert _run(capsys, "check", str(tmp_path / "openapi.json"))[0] == 1


def test_s22_basic_auth_over_plain_http_warns(tmp_path: Path) -> None:
    """bad-inputs S22: http basic with an `http://` server."""
    doc = _doc(servers=[{"url": "http://api.example.com/v1"}],
               components={"securitySchemes": {"b": {"type": "http", "scheme": "basic"}}})
    assert _rule(_check_doc(tmp_path, doc), "SG103") == [
        ("warning", f"{SCHEMES}/b", "`b` credentials would cross a plain http server")]


def test_s22_openid_connect_url_over_plain_http_warns(tmp_path: Path) -> None:
    """bad-inputs S22: `openIdConnectUrl: http://...` warns like credentials over http (the
    discovery document names the token endpoint and keys; over http it can be swapped)."""
    doc = _doc(security=[{"o": []}], components={"securitySchemes": {"o": {
        "type": "openIdConnect",
        "openIdConnectUrl": "http://id.example.com/.well-known/openid-configuration"}}})
    found = _rule(_check_doc(tmp_path, doc), "SG103")
    assert [(s, p.startswith(f"{SCHEMES}/o")) for s, p, _ in found] == [("warning", True)]


@pytest.mark.parametrize(("version", "expected"), [
    ("3.0.3", [("warning", "/components/schemas/Person/properties/name",
                "`maxLength` beside `$ref` is ignored in 3.0")]),
    ("3.1.0", []),  # 3.1 applies siblings
])
def test_s23_ref_siblings_warn_in_3_0_only(version: str, expected: list[tuple[str, str, str]],
                                           tmp_path: Path) -> None:
    """bad-inputs S23: `{$ref, maxLength}` is silently weaker in 3.0, and means what it says
    in 3.1."""
    doc = _doc(version, components={"schemas": {
        "Name": {"type": "string", "maxLength": 64},
        "Person": {"type": "object", "properties": {
            "name": {"$ref": "#/components/schemas/Name", "maxLength": 8}}}}})
    assert _rule(_check_doc(tmp_path, doc), "SG023") == expected


def _segment_doc(template: str, schemas: dict[str, Any]) -> dict[str, Any]:
    params = [{"name": n, "in": "path", "required": True, "schema": s}
              for n, s in schemas.items()]
    return _doc(paths={template: {"get": {"operationId": "get", "parameters": params,
                                          "responses": {"200": {"description": "ok"}}}}})


DATE = {"type": "string", "format": "date"}
KIND = {"type": "string", "enum": ["csv", "pdf"]}
WORD = {"type": "string", "pattern": "^[a-z]+$", "maxLength": 20}
COUNT = {"type": "integer", "minimum": 0}


@pytest.mark.parametrize(("template", "schemas", "names"), [
    pytest.param("/r/{from}-{to}", {"from": DATE, "to": DATE}, ["from"], id="dates"),
    pytest.param("/exports/{kind}-{from}-{to}", {"kind": KIND, "from": DATE, "to": DATE},
                 ["from"], id="enum-then-dates"),
    pytest.param("/files/{name}.{ext}", {"name": {"type": "string"}, "ext": KIND}, ["name"],
                 id="free-string"),
    pytest.param("/files/{name}.{ext}", {"name": WORD, "ext": KIND}, [], id="word"),
    pytest.param("/exports/{kind}-{from}-{to}", {"kind": KIND, "from": COUNT, "to": COUNT}, [],
                 id="enum-then-counts"),
])
def test_s25_shared_segment_warns_when_a_value_may_contain_the_separator(
        template: str, schemas: dict[str, Any], names: list[str], tmp_path: Path) -> None:
    """bad-inputs S25: `2024-01-01-2024-02-01` cannot be split; a word or a count can."""
    segment = template.split("/")[-1]
    separator = "." if "." in segment else "-"
    operation = "/paths/" + template.replace("/", "~1") + "/get"
    assert _rule(_check_doc(tmp_path, _segment_doc(template, schemas)), "SG035") == [
        ("warning", operation, f"`{{{name}}}` in `{segment}` may contain `{separator}`: the "
                               "segment splits at its first occurrence") for name in names]


def test_s25_shared_segment_is_noted(tmp_path: Path) -> None:
    """bad-inputs S25: `/files/{name}.{ext}` is info (SG038, the split rule) when it splits
    cleanly; an ambiguous split is the SG035 warning instead."""
    findings = _check_doc(tmp_path, _segment_doc("/files/{name}.{ext}",
                                                 {"name": WORD, "ext": KIND}))
    notes = [f for f in findings if f.severity == "info"]
    assert [f.pointer for f in notes] == ["/paths/~1files~1{name}.{ext}/get"], _show(findings)
    assert "{name}.{ext}" in notes[0].message


def _parameter_doc(param: dict[str, Any]) -> dict[str, Any]:
    template = "/items/{id}" if param["in"] == "path" else "/items"
    return _doc(paths={template: {"get": {"operationId": "get", "parameters": [param],
                                          "responses": {"200": {"description": "ok"}}}}})


INTEGERS = {"type": "array", "maxItems": 5, "items": {"type": "integer"}}
FLAT = {"type": "object", "additionalProperties": False,
        "properties": {"a": {"type": "integer"}}}  # closed: no SG104
SUPPORTED = {
    "form": {"name": "p", "in": "query", "schema": INTEGERS},
    "form-not-exploded": {"name": "p", "in": "query", "explode": False, "schema": INTEGERS},
    "spaceDelimited": {"name": "p", "in": "query", "style": "spaceDelimited", "explode": False,
                       "schema": INTEGERS},
    "pipeDelimited": {"name": "p", "in": "query", "style": "pipeDelimited", "explode": False,
                      "schema": INTEGERS},
    "form-object": {"name": "p", "in": "query", "schema": FLAT},
    "deepObject-flat": {"name": "p", "in": "query", "style": "deepObject", "explode": True,
                        "schema": FLAT},
    "json-content": {"name": "p", "in": "query",
                     "content": {"application/json": {"schema": FLAT}}},
    "header-array": {"name": "X-P", "in": "header", "schema": INTEGERS},
    "header-object": {"name": "X-P", "in": "header", "explode": True, "schema": FLAT},
    "cookie": {"name": "p", "in": "cookie", "schema": {"type": "integer"}},
    "path-label": {"name": "id", "in": "path", "required": True, "style": "label",
                   "schema": {"type": "integer"}},
    "path-matrix": {"name": "id", "in": "path", "required": True, "style": "matrix",
                    "explode": True, "schema": INTEGERS},
}
REFUSED = {
    "deepObject-nested": {"name": "p", "in": "query", "style": "deepObject", "explode": True,
                          "schema": {"type": "object", "properties": {"a": FLAT}}},
    "deepObject-string": {"name": "p", "in": "query", "style": "deepObject", "explode": True,
                          "schema": {"type": "string"}},
    "text-content": {"name": "p", "in": "query",
                     "content": {"text/plain": {"schema": {"type": "string"}}}},
    "path-text-content": {"name": "id", "in": "path", "required": True,
                          "content": {"text/plain": {"schema": {"type": "string"}}}},
}


@pytest.mark.parametrize("name", REFUSED)
def test_s27_sg032_is_exactly_what_the_guard_refuses(name: str, tmp_path: Path) -> None:
    """bad-inputs S27: the guard's refusal, with its message and pointer, as an error (path
    parameters included: a non-JSON `content` path parameter stops the guard too)."""
    _check_doc(tmp_path, _parameter_doc(REFUSED[name]))
    with pytest.raises(sg.SpecError) as refusal:
        sg.Guard(str(tmp_path / "openapi.json"), eager=True)
    found = _rule(check_spec_file(str(tmp_path / "openapi.json")), "SG032")
    assert found == [("error", refusal.value.pointer, refusal.value.message)]


@pytest.mark.parametrize("name", SUPPORTED)
def test_s27_what_the_guard_supports_passes(name: str, tmp_path: Path) -> None:
    """bad-inputs S27: every serialization the guard validates passes `check`."""
    findings = _check_doc(tmp_path, _parameter_doc(SUPPORTED[name]))
    sg.Guard(str(tmp_path / "openapi.json"), eager=True)
    assert [f.rule for f in findings] == ["SG101"], _show(findings)


def _request_lints(findings: list[Finding]) -> list[tuple[str, str, str]]:
    return [(f.rule, f.pointer, f.message) for f in findings if f.rule in ("SG104", "SG105")]


STRING = {"type": "string"}
OPEN = {"type": "object", "properties": {"a": {"type": "integer"}}}
PARAMETER = "/paths/~1items/get/parameters/0"


@pytest.mark.parametrize(("param", "rule", "at", "message"), [
    pytest.param({"name": "q", "in": "query", "schema": STRING}, "SG105", "/schema",
                 "string without `maxLength`", id="query-string"),
    pytest.param({"name": "q", "in": "query", "schema": {"type": "string", "format": "uri"}},
                 "SG105", "/schema", "string without `maxLength`", id="query-unbounded-format"),
    pytest.param({"name": "q", "in": "query", "schema": {"pattern": "^[a-z]+$"}}, "SG105",
                 "/schema", "`pattern` admits strings of any length", id="query-untyped-pattern"),
    pytest.param({"name": "tag", "in": "query", "style": "form", "explode": True,
                  "schema": {"type": "array", "items": {"type": "integer"}}},
                 "SG105", "/schema", "array without `maxItems`", id="query-array"),
    pytest.param({"name": "tag", "in": "query", "schema": {"type": "array", "maxItems": 5,
                                                           "items": STRING}},
                 "SG105", "/schema/items", "string without `maxLength`", id="query-array-items"),
    pytest.param({"name": "X-Trace", "in": "header", "schema": STRING}, "SG105", "/schema",
                 "string without `maxLength`", id="header"),
    pytest.param({"name": "session", "in": "cookie", "schema": STRING}, "SG105", "/schema",
                 "string without `maxLength`", id="cookie"),
    # A path parameter keeps SG105: its value is one URL segment, but nothing bounds a segment
    # (the guard imposes no URL length limit; a server's is often 8 KB or more), the README's
    # row makes no exception, and Spectral's OWASP ruleset flags unbounded strings wherever
    # they are. `enum`, a short `format` or `maxLength` silence it, as for any string.
    pytest.param({"name": "id", "in": "path", "required": True, "schema": STRING}, "SG105",
                 "/schema", "string without `maxLength`", id="path"),
    pytest.param({"name": "filter", "in": "query", "style": "deepObject", "explode": True,
                  "schema": OPEN}, "SG104", "/schema", "`additionalProperties`",
                 id="deepObject-open"),
    pytest.param({"name": "filter", "in": "query", "schema": OPEN}, "SG104", "/schema",
                 "`additionalProperties`", id="form-object-open"),
    # JSON in a query string: the media type's schema is linted.
    pytest.param({"name": "filter", "in": "query", "content": {"application/json": {
        "schema": OPEN}}}, "SG104", "/content/application~1json/schema",
                 "`additionalProperties`", id="content-open"),
    pytest.param({"name": "filter", "in": "query", "content": {"application/json": {
        "schema": {"type": "object", "additionalProperties": False,
                   "properties": {"q": STRING}}}}},
                 "SG105", "/content/application~1json/schema/properties/q",
                 "string without `maxLength`", id="content-string"),
])
def test_s17_unbounded_parameters_warn(param: dict[str, Any], rule: str, at: str,
                                       message: str, tmp_path: Path) -> None:
    """bad-inputs S17 for parameters: they are request input like bodies (OWASP API4), in
    every location; the finding points at the parameter's schema."""
    found = _request_lints(_check_doc(tmp_path, _parameter_doc(param)))
    prefix = PARAMETER.replace("~1items", "~1items~1{id}") if param["in"] == "path" \
        else PARAMETER
    assert [(r, p, message in m) for r, p, m in found] == [(rule, prefix + at, True)], found


@pytest.mark.parametrize("param", [
    pytest.param({"name": "q", "in": "query", "schema": {"type": "string", "maxLength": 64}},
                 id="maxLength"),
    pytest.param({"name": "q", "in": "query", "schema": {"type": "string",
                                                         "enum": ["a", "b"]}}, id="enum"),
    pytest.param({"name": "q", "in": "query", "schema": {"const": "a"}}, id="const"),
    *(pytest.param({"name": "q", "in": "query", "schema": {"type": "string", "format": name}},
                   id=f"format-{name}") for name in sorted(_BOUNDED_FORMATS)),
    pytest.param({"name": "tag", "in": "query", "style": "form", "explode": True,
                  "schema": INTEGERS}, id="array-of-integers"),
    pytest.param({"name": "tag", "in": "query", "schema": {
        "type": "array", "maxItems": 5, "items": {"type": "string", "maxLength": 8}}},
                 id="array-of-bounded-strings"),
    pytest.param({"name": "limit", "in": "query", "schema": {"type": "integer"}},
                 id="integer"),
    pytest.param({"name": "q", "in": "query", "schema": {"type": "number"}}, id="number"),
    pytest.param({"name": "flag", "in": "query", "schema": {"type": "boolean"}},
                 id="boolean"),
    pytest.param({"name": "X-Page", "in": "header", "schema": {"type": "integer"}},
                 id="header-integer"),
    pytest.param({"name": "id", "in": "path", "required": True,
                  "schema": {"type": "integer", "format": "int64"}}, id="path-integer"),
    pytest.param({"name": "id", "in": "path", "required": True,
                  "schema": {"type": "string", "format": "uuid"}}, id="path-uuid"),
    pytest.param({"name": "filter", "in": "query", "style": "deepObject", "explode": True,
                  "schema": FLAT}, id="deepObject-closed"),
    pytest.param({"name": "filter", "in": "query", "content": {"application/json": {
        "schema": {"type": "object", "additionalProperties": False,
                   "properties": {"q": {"type": "string", "maxLength": 8}}}}}},
                 id="content-closed"),
])
def test_s17_bounded_parameters_pass(param: dict[str, Any], tmp_path: Path) -> None:
    """bad-inputs S17 for parameters, the near misses: nothing unbounded, nothing open."""
    assert _request_lints(_check_doc(tmp_path, _parameter_doc(param))) == []


def _get(name: str, *params: Any) -> dict[str, Any]:
    return {"operationId": name, "parameters": list(params),
            "responses": {"200": {"description": "ok"}}}


def test_component_parameter_is_linted_once_where_it_is_defined(tmp_path: Path) -> None:
    """A `$ref`'d parameter used by two operations (and its schema shared with a body) is
    reported once, at the component, not once per use."""
    limit = {"$ref": "#/components/parameters/Limit"}
    paths = _post({"$ref": "#/components/schemas/Name"})
    paths["/items"]["get"] = _get("list", limit, {"$ref": "#/components/parameters/Named"})
    paths["/users"] = {"get": _get("users", limit)}
    doc = _doc(paths=paths, components={
        "parameters": {"Limit": {"name": "limit", "in": "query", "schema": STRING},
                       "Named": {"name": "name", "in": "query",
                                 "schema": {"$ref": "#/components/schemas/Name"}}},
        "schemas": {"Name": STRING}})
    assert _request_lints(_check_doc(tmp_path, doc)) == [
        ("SG105", "/components/parameters/Limit/schema", "string without `maxLength`"),
        ("SG105", "/components/schemas/Name", "string without `maxLength`")]


def test_path_level_parameter_is_linted_once(tmp_path: Path) -> None:
    """A parameter of the path item, shared by GET and POST: one finding, on the path item."""
    doc = _doc(paths={"/items": {"parameters": [{"name": "q", "in": "query", "schema": STRING}],
                                 "get": _get("list"), "post": _get("create")}})
    assert _request_lints(_check_doc(tmp_path, doc)) == [
        ("SG105", "/paths/~1items/parameters/0/schema", "string without `maxLength`")]


def test_parameter_in_another_file_is_linted_there(tmp_path: Path) -> None:
    (tmp_path / "parameters.yaml").write_text(
        "Search:\n  name: q\n  in: query\n  schema: {type: string}\n", "utf-8")
    doc = _doc(paths={"/items": {"get": _get("list", {"$ref": "./parameters.yaml#/Search"}),
                                 "put": _get("put", {"$ref": "./parameters.yaml#/Search"})}})
    found = [f for f in _check_doc(tmp_path, doc) if f.rule in ("SG104", "SG105")]
    assert [(Path(f.file or "").name, f.line, f.pointer, f.message) for f in found] == [
        ("parameters.yaml", 4, "/Search/schema", "string without `maxLength`")], _show(found)


OBJECT = {"type": "object", "additionalProperties": False, "properties": {"a": FLAT}}


@pytest.mark.parametrize(("media_type", "schema"), [
    pytest.param("*/*", None, id="any-without-schema"),
    # Only JSON, form and multipart/form-data bodies are parsed; `*/*` reads other media
    # types as a string, which an object schema always refuses.
    pytest.param("*/*", OBJECT, id="any"),
    # Validated as a string of bytes: length and pattern, never the content.
    pytest.param("application/octet-stream", {"type": "string", "format": "binary",
                                              "maxLength": 1024}, id="octet-stream"),
    # Read as a string: the object schema rejects every body.
    pytest.param("text/plain", OBJECT, id="text-object"),
    pytest.param("application/xml", {"$ref": "#/components/schemas/Object"}, id="xml-ref"),
    pytest.param("text/plain", {"allOf": [{"$ref": "#/components/schemas/Object"}]},
                 id="text-allOf"),
    pytest.param("text/plain", {"properties": {"a": FLAT}}, id="text-untyped-object"),
])
def test_s28_schemaless_bodies_warn(media_type: str, schema: Any, tmp_path: Path) -> None:
    """bad-inputs S28: "body not structurally validated" is a warning on the media type (the
    runtime parses JSON, form and multipart/form-data bodies; any other is one string)."""
    paths = _post(schema, media_type)
    content = paths["/items"]["post"]["requestBody"]["content"]
    if schema is None:
        content[media_type] = {}
    at = "/paths/~1items/post/requestBody/content/" + media_type.replace("/", "~1")
    doc = _doc(paths=paths, components={"schemas": {"Object": OBJECT}})
    found = _rule(_check_doc(tmp_path, doc), "SG030")
    assert [(s, p.startswith(at), "validated" in m) for s, p, m in found] == [
        ("warning", True, True)], found


@pytest.mark.parametrize(("media_type", "schema"), [
    pytest.param("application/json", OBJECT, id="json"),
    pytest.param("application/problem+json", OBJECT, id="json-suffix"),
    pytest.param("application/x-www-form-urlencoded", OBJECT, id="form"),
    pytest.param("multipart/form-data", OBJECT, id="multipart"),
    pytest.param("text/plain", {"type": "string", "maxLength": 64}, id="text-string"),
    pytest.param("text/plain; charset=utf-8", {"type": "string", "maxLength": 64},
                 id="text-string-charset"),
])
def test_s28_structurally_validated_bodies_pass(media_type: str, schema: Any,
                                                tmp_path: Path) -> None:
    """bad-inputs S28, the near misses: parsed bodies, and text read as the string it is."""
    assert _rule(_check_doc(tmp_path, _doc(paths=_post(schema, media_type))), "SG030") == []


def test_s28_runtime_reads_those_bodies_as_strings(tmp_path: Path) -> None:
    """What the S28 warnings say, from the guard: a `text/plain` body never meets an object
    schema's structure, and `*/*` parses only the media types it knows."""
    paths = _post(OBJECT, "text/plain")
    paths["/items"]["post"]["requestBody"]["content"]["*/*"] = {"schema": OBJECT}
    guard = sg.Guard(_doc(paths=paths), eager=True)

    def status(content_type: str, body: bytes) -> int:
        try:
            guard.check_request(sg.HttpRequest("POST", "/items", body=body,
                                               headers=[("content-type", content_type)]))
        except sg.RequestError as exc:
            return exc.status_code
        return 200

    assert status("text/plain", b'{"a": {"a": 1}}') == 400
    assert status("application/json", b'{"a": {"a": 1}}') == 200
    assert status("application/json", b'{"a": {"a": "x"}}') == 400
    assert status("application/xml", b"<a/>") == 400


@pytest.mark.parametrize(("version", "schema", "pointer", "message"), [
    pytest.param("3.0.3", {"type": ["string", "null"]}, "/type", "`type` must be a type name",
                 id="type-array-in-3.0"),
    pytest.param("3.0.3", {"type": "file"}, "/type", "`type` must be a type name",
                 id="type-file-3.0"),
    pytest.param("3.1.0", {"type": "file"}, "/type", "`type` must be a type name",
                 id="type-file-3.1"),
    pytest.param("3.1.0", {"$schema": "http://json-schema.org/draft-07/schema#",
                           "type": "string"},
                 "/$schema", "own `$schema` dialect is not supported", id="schema-3.1"),
    pytest.param("3.0.3", {"$schema": "http://json-schema.org/draft-04/schema#",
                           "type": "string"},
                 "/$schema", "own `$schema` dialect is not supported", id="schema-3.0"),
])
def test_s29_dialect_mixing_is_an_error(version: str, schema: dict[str, Any], pointer: str,
                                        message: str, tmp_path: Path) -> None:
    """bad-inputs S29 (`nullable` without `type` is the SG028 corpus case)."""
    findings = _check_doc(tmp_path, _doc(version, components={"schemas": {"A": schema}}))
    assert [(f.rule, f.severity, f.pointer) for f in findings] == [
        ("SG001", "error", "/components/schemas/A" + pointer)], _show(findings)
    assert message in findings[0].message


# The formats DESIGN.md lists as asserted: never "not known".
ASSERTED_FORMATS = ["date", "date-time", "time", "email", "uuid", "uri", "ipv4", "ipv6",
                    "hostname", "int32", "int64", "float", "double", "byte"]


@pytest.mark.parametrize("version", ["3.0.3", "3.1.0"])
def test_s30_unknown_format_warns_and_asserted_ones_do_not(version: str,
                                                           tmp_path: Path) -> None:
    """bad-inputs S30: `format: ssn` is not checked by anything: say so."""
    schemas = {f"F{i}": {"type": "string", "maxLength": 9, "format": name}
               for i, name in enumerate(["ssn", *ASSERTED_FORMATS])}
    found = _rule(_check_doc(tmp_path, _doc(version, components={"schemas": schemas})),
                  "SG022")
    assert found == [("warning", "/components/schemas/F0/format",
                      "format `ssn` is not known: it is not checked")]


def test_s31_read_only_and_write_only_is_an_error(capsys: pytest.CaptureFixture[str]) -> None:
    """bad-inputs S31: readOnly + writeOnly is an error: the property can be sent in neither
    direction."""
    path = INVALID / "SG029-read-only-and-write-only.yaml"
    assert [f.severity for f in _findings(path) if f.rule == "SG029"] == ["error"]
    assert _run(capsys, "check", str(path))[0] == 1


@pytest.mark.parametrize("target", ["#/components/schemas/Dg", "Dg"], ids=["ref", "name"])
def test_s32_discriminator_mapping_to_a_missing_schema_is_an_error(
        target: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """bad-inputs S32: `mapping: {dog: '#/components/schemas/Dg'}` (or just `Dg`)."""
    doc = _doc(components={"schemas": {
        "Dog": {"type": "object", "properties": {"kind": {"type": "string"}}},
        "Pet": {"oneOf": [{"$ref": "#/components/schemas/Dog"}],
                "discriminator": {"propertyName": "kind", "mapping": {"dog": target}}}}})
    assert _rule(_check_doc(tmp_path, doc), "SG001") == [
        ("error", "/components/schemas/Pet/discriminator/mapping/dog",
         "unresolvable reference `#/components/schemas/Dg`")]
    assert _run(capsys, "check", str(tmp_path / "openapi.json"))[0] == 1


@pytest.mark.parametrize(("version", "expected"), [
    ("3.1.0", [("SG033", "warning", "/paths/~1a/get")]),
    # 3.0 requires `responses`: the official schema makes it an error.
    ("3.0.3", [("SG002", "error", "/paths/~1a/get/responses")]),
])
def test_s35_operation_without_responses(version: str, expected: list[tuple[str, str, str]],
                                         tmp_path: Path) -> None:
    """bad-inputs S35: an operation that declares no responses."""
    doc = _doc(version, paths={"/a": {"get": {"operationId": "a"}}})
    findings = [f for f in _check_doc(tmp_path, doc) if f.rule != "SG101"]
    assert [(f.rule, f.severity, f.pointer) for f in findings] == expected, _show(findings)
    if version == "3.1.0":
        assert findings[0].message == "GET /a declares no responses"


# -- property: check never raises --------------------------------------------------------------

# Control characters and wrong top-level types used to crash `check` (regression tests above);
# the properties now run over them too.
def _check_quietly(path: Path) -> int:
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        return main(["check", str(path)])


_KEYS = st.sampled_from([
    "openapi", "info", "title", "version", "paths", "components", "schemas", "securitySchemes",
    "parameters", "responses", "requestBodies", "security", "servers", "url", "webhooks",
    "get", "post", "delete", "operationId", "requestBody", "content", "application/json",
    "schema", "example", "examples", "default", "type", "properties", "items", "required",
    "additionalProperties", "format", "pattern", "nullable", "readOnly", "writeOnly", "enum",
    "allOf", "oneOf", "$ref", "in", "name", "description", "swagger", "/items",
    "/items/{id}", "/items/me", "200", "401", "x-ext",
])
_SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-3, 600), st.floats(allow_nan=False, width=32),
    st.text(max_size=10),
    st.sampled_from(["3.0.3", "3.1.0", "2.0", "object", "string", "array", "integer", "path",
                     "query", "apiKey", "http", "bearer", "http://example.com", "yes", "on",
                     "#/components/schemas/A", "#/components/parameters/P", "#/nope",
                     "./x.yaml#/A", "../outside.yaml", "^(a+)+$", "(?=a)b", "[", "date-time",
                     "uri-reference", "phone"]),
)
_VALUES = st.recursive(
    _SCALARS,
    lambda children: st.lists(children, max_size=3)
    | st.dictionaries(_KEYS | st.text(max_size=5) | st.integers(100, 599), children,
                      max_size=4),
    max_leaves=20,
)
_DOCUMENTS = st.one_of(
    st.fixed_dictionaries(
        {"openapi": st.sampled_from(["3.0.3", "3.1.0"]),
         "info": st.just({"title": "t", "version": "1"})},
        optional={
            "paths": st.dictionaries(
                st.sampled_from(["/items", "/items/{id}", "/items/me", "/{a}/{b}"]),
                st.dictionaries(st.sampled_from(["get", "post", "delete", "parameters"]),
                                _VALUES, max_size=3),
                max_size=3),
            "components": st.dictionaries(
                st.sampled_from(["schemas", "securitySchemes", "parameters", "responses"]),
                st.dictionaries(st.sampled_from(["A", "P", "B"]), _VALUES, max_size=3),
                max_size=3),
            "security": _VALUES,
            "servers": _VALUES,
            "webhooks": _VALUES,
        }),
    st.dictionaries(_KEYS, _VALUES, max_size=5),
    _VALUES,
)
_PROPERTY = settings(max_examples=50, deadline=None, database=None,
                     suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("property")


@_PROPERTY
@given(raw=st.binary(max_size=300) | st.builds(lambda t: t.encode(), st.text(max_size=200)))
def test_check_never_raises_on_arbitrary_bytes(scratch: Path, raw: bytes) -> None:
    path = scratch / "spec.yaml"
    path.write_bytes(raw)
    assert _check_quietly(path) in (0, 1, 2)


@_PROPERTY
@given(document=_DOCUMENTS, as_json=st.booleans())
def test_check_never_raises_on_yamlish_documents(scratch: Path, document: object,
                                                 as_json: bool) -> None:
    if as_json:
        path, text = scratch / "spec.json", json.dumps(document)
    else:
        path, text = scratch / "spec.yaml", yaml.safe_dump(document, sort_keys=False)
    path.write_bytes(text.encode())
    assert _check_quietly(path) in (0, 1, 2)
