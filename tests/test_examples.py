"""The README's main job: the guarded example apps, exercised end to end by the demo."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("flags", [[], ["--fastapi"]], ids=["flask", "fastapi"])
def test_demo_accepts_the_good_requests_and_rejects_the_bad(flags: list[str]) -> None:
    result = subprocess.run([sys.executable, str(ROOT / "examples" / "demo.py"), *flags],
                            capture_output=True, text=True, timeout=120, check=True)
    lines = result.stdout.splitlines()
    assert lines[-1] == "4 accepted, 12 rejected before reaching a handler"
    verdicts = [line.split()[:2] for line in lines if line.startswith(("accepted", "rejected"))]
    assert [status for _, status in verdicts] == [
        "200", "201", "200", "400", "401", "401", "400", "400", "400", "400", "415", "401",
        "204", "405", "404", "404"]
    assert "readOnly property must not appear in a request (readOnly)" in result.stdout
    assert "[Allow: DELETE, GET, HEAD, PUT]" in result.stdout


def test_readme_starts_with_the_two_commands() -> None:
    text = (ROOT / "README.md").read_text("utf-8")
    commands = [line for line in text.split("```")[1].splitlines() if line.strip()][1:]
    assert commands == [
        'python3 -m venv .venv && . .venv/bin/activate && pip install ".[flask]" && '
        "python examples/demo.py",
        'python3 -m venv .venv && . .venv/bin/activate && pip install ".[dev]" && pytest',
    ]
    ci = (ROOT / ".ci" / "run").read_text("utf-8")
    assert commands[1] in ci
