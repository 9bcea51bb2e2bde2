"""The front door and the import direction (ARCHITECTURE.md)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import schemaguard

SRC = Path(schemaguard.__file__).parent
# Layer of each core module; a module may import only from layers <= its own.
LAYERS = {
    "errors": 1, "_version": 1,
    "_source": 2, "_http": 2, "_yaml": 2, "_deadline": 2, "_watch": 2, "_logs": 2, "_depth": 2,
    "_regex": 3, "_keywords": 3, "_spec": 3, "_walk": 3, "_router": 3, "_security": 3, "_verify": 4,
    "_formats": 4, "_compile": 4, "_shape": 4, "_bound": 4, "_media": 4,
    "_violations": 5, "_locate": 5, "_explain": 5, "_schema": 5, "_params": 5, "_body": 5,
    "_operation": 6, "_response": 6, "_graph": 3, "_adapter": 8, "_asgi": 8, "_lint": 6, "wsgi": 9,
    "asgi": 9,
    "_guard": 7, "_content": 7, "_assemble": 7,
    "__init__": 8, "cli": 8, "__main__": 8,
    "_scan": 5, "_drift": 5, "_limits": 6, "_recording": 7,
    "_generate": 7, "_serialize": 7, "_cases": 8, "_fuzz": 8, "_campaign": 8, "testing": 9,
}
FRAMEWORKS = {"flask", "django", "starlette", "fastapi", "werkzeug", "uvicorn", "gunicorn"}
# werkzeug's sans-io multipart decoder is the engine chosen for multipart (DESIGN.md).
ALLOWED = {("_body", "werkzeug")}


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                found.add((node.module or "").split(".")[0])
            else:
                found.add("!" + (node.module or "").split(".")[0])
        elif isinstance(node, ast.Import):
            found.update("!" + alias.name.split(".")[0] for alias in node.names)
    return found


def test_all_is_sorted_and_complete() -> None:
    assert schemaguard.__all__ == sorted(schemaguard.__all__)
    public = {name for name in vars(schemaguard) if not name.startswith("_")}
    modules = {"errors", "cli", "wsgi", "asgi", "testing"}
    assert set(schemaguard.__all__) - {"__version__"} == public - modules
    for name in schemaguard.__all__:
        assert hasattr(schemaguard, name)


def test_every_module_has_a_layer() -> None:
    assert {p.stem for p in SRC.glob("*.py")} == set(LAYERS)


@pytest.mark.parametrize("module", sorted(LAYERS), ids=str)
def test_core_imports_point_down_and_know_no_framework(module: str) -> None:
    imports = _imports(SRC / f"{module}.py")
    for name in imports:
        if name.startswith("!"):
            if (module, name[1:]) not in ALLOWED:
                assert name[1:] not in FRAMEWORKS, f"{module} imports {name[1:]}"
        elif name:
            assert LAYERS[name] <= LAYERS[module], f"{module} imports {name} from a higher layer"


TESTING = {"_generate", "_serialize", "_cases", "_fuzz", "_campaign", "testing"}


@pytest.mark.parametrize("module", sorted(set(LAYERS) - TESTING), ids=str)
def test_only_the_testing_layer_needs_hypothesis(module: str) -> None:
    """Hypothesis is the [fuzz] extra: the guard, adapters and `check` run without it."""
    imports = _imports(SRC / f"{module}.py")
    assert "!hypothesis" not in imports
    assert not imports & TESTING  # cli imports _campaign inside `fuzz` only
