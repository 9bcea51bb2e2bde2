"""The pre-commit hook: its definition, and the real `pre-commit` running it in a git repository.

The repository under test uses `repo: local` with the hook definition from
.pre-commit-hooks.yaml, changed only to `language: system` and an entry that runs this Python's
schemaguard, so nothing is installed from the network. PRE_COMMIT_HOME points into tmp_path.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).parent.parent
HOOKS = ROOT / ".pre-commit-hooks.yaml"
SPECS = ROOT / "specs"

VALID = (SPECS / "check" / "valid" / "clean-3.1.yaml").read_text("utf-8")
INVALID = (SPECS / "check" / "invalid" / "SG011-duplicate-operation-id.yaml").read_text("utf-8")


def _hook() -> dict[str, object]:
    hooks = yaml.safe_load(HOOKS.read_text("utf-8"))
    assert isinstance(hooks, list)
    [hook] = [h for h in hooks if h.get("id") == "schemaguard-check"]
    assert isinstance(hook, dict)
    return hook


def test_hook_definition() -> None:
    hook = _hook()
    assert hook["id"] == "schemaguard-check"
    assert hook["entry"] == "schemaguard check"
    assert hook["language"] == "python"
    assert hook["name"]
    assert set(hook.get("types_or", [])) <= {"yaml", "json"}
    files = re.compile(str(hook["files"]))
    for name in ("openapi.yaml", "bad/openapi.yaml", "api/openapi.json", "swagger.yml",
                 "docs/openapi-v2.yaml"):
        assert files.search(name), name
    for name in ("README.md", "openapi.py", ".github/workflows/ci.yml", "values.yaml",
                 ".github/workflows/api-tests.yml", "k8s/api-deployment.yaml",
                 "specs/petstore-3.1.yaml"):  # other names: widen `files:` in the config
        assert not files.search(name), name


def _pre_commit() -> list[str]:
    if importlib.util.find_spec("pre_commit") is not None:
        return [sys.executable, "-m", "pre_commit"]
    found = shutil.which("pre-commit")
    if found is None:
        pytest.skip("pre-commit is not installed (pip install 'pre-commit>=3.5')")
    return [found]


@pytest.fixture
def repo(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    root = tmp_path / "repo"
    root.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "PRE_COMMIT"))}
    env.update(PRE_COMMIT_HOME=str(tmp_path / "pre-commit-home"), HOME=str(tmp_path),
               GIT_CONFIG_NOSYSTEM="1", GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@example.com",
               GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@example.com",
               PRE_COMMIT_COLOR="never", NO_COLOR="1")
    subprocess.run(["git", "init", "-q", str(root)], check=True, env=env)
    hook = dict(_hook())
    hook.update(language="system", entry=f"{shlex.quote(sys.executable)} -m schemaguard check")
    config = {"repos": [{"repo": "local", "hooks": [hook]}]}
    (root / ".pre-commit-config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    (root / "openapi.yaml").write_text(VALID, "utf-8")
    (root / "bad").mkdir()
    (root / "bad" / "openapi.yaml").write_text(INVALID, "utf-8")
    (root / "README.md").write_text("not a spec\n", "utf-8")
    _git(root, env, "add", "-A")
    return root, env


def _git(root: Path, env: dict[str, str], *args: str) -> None:
    subprocess.run(["git", *args], cwd=root, env=env, check=True, capture_output=True)


def _run_hooks(root: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*_pre_commit(), "run", "--all-files"], cwd=root, env=env,
                          capture_output=True, text=True, timeout=60)


def test_pre_commit_fails_on_the_invalid_spec_then_passes(
        repo: tuple[Path, dict[str, str]]) -> None:
    root, env = repo
    result = _run_hooks(root, env)
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert re.search(r"schemaguard check .*Failed", output), output
    assert "bad/openapi.yaml:18:7: error SG011 operationId `listItems`" in output
    assert "openapi.yaml:" not in output.replace("bad/openapi.yaml:", "")  # the valid one

    (root / "bad" / "openapi.yaml").write_text(VALID, "utf-8")
    _git(root, env, "add", "-A")
    result = _run_hooks(root, env)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert re.search(r"schemaguard check .*Passed", output), output
