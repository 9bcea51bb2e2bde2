"""Wheel build hook: compile schemaguard's request path with mypyc.

Building a wheel (``pip install .``) compiles the modules every request runs through into C
extension modules with mypyc; the ``.py`` sources ship beside them, and Python imports the
compiled module when there is one. The code is the same, type-checked with ``mypy --strict``,
so the behaviour is the same: the compiled build only spends fewer instructions per request.

- No working C compiler (or mypyc fails): the wheel is pure Python, with a warning.
  ``SCHEMAGUARD_REQUIRE_COMPILED=1`` makes that an error instead (CI sets it).
- ``SCHEMAGUARD_PURE_PYTHON=1`` builds the pure-Python wheel on purpose.
- Editable installs (``pip install -e .``) stay pure Python, so that edits take effect.

``schemaguard.COMPILED`` tells which build is imported.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

# What every request runs through: routing, parameters, media types, security, the body's
# parse-and-validate step, the conversion of engine errors to violations (at most max_errors
# of them) and the adapters. Spec loading, lint and fuzzing stay Python, and so do the modules
# that walk a whole body (_body, _bound, _schema, _locate: the depth and duplicate-key scans,
# and the search for a refused body's errors). Compiled code does not let go of the GIL until
# it returns, so a compiled walk over a 1 MB body in a worker thread would hold the event loop
# for its whole length (bad-inputs L12); in Python the interpreter hands the GIL over every
# few milliseconds. The exception is _depth, the breadth-first depth survey of a refused body:
# its work is a fraction of the parse that produced the body (which holds the GIL throughout),
# where in Python it cost more than that parse.
COMPILED = ("_adapter", "_content", "_depth", "_explain", "_guard", "_http", "_operation",
            "_params", "_router", "_security", "_verify", "_violations", "_watch", "asgi", "wsgi")

_SETUP = """
import sys
from mypyc.build import mypycify
from setuptools import setup

target, paths = sys.argv.pop(1), sys.argv.pop(1).split(",")
setup(name="schemaguard-compiled", ext_modules=mypycify(
    ["--cache-dir", target + "/mypy-cache", *paths], opt_level="3", target_dir=target))
"""


def _flag(name: str) -> bool:
    return os.environ.get(name, "").strip() not in ("", "0")


class MypycBuildHook(BuildHookInterface):  # type: ignore[type-arg]
    """Adds the compiled modules to a standard (non-editable) wheel."""

    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        self._work: str | None = None
        if self.target_name != "wheel" or version == "editable" or \
                _flag("SCHEMAGUARD_PURE_PYTHON"):
            return
        self._work = tempfile.mkdtemp(prefix="schemaguard-mypyc-")
        try:
            built = self._compile(Path(self._work))
        except (OSError, subprocess.CalledProcessError) as exc:
            output = getattr(exc, "stdout", None) or str(exc)
            tail = "\n".join(str(output).splitlines()[-25:])
            if _flag("SCHEMAGUARD_REQUIRE_COMPILED"):
                raise RuntimeError(f"schemaguard: mypyc compilation failed:\n{tail}") from exc
            self.app.display_warning("schemaguard: mypyc compilation failed; building the "
                                     f"pure-Python wheel (same behaviour, slower):\n{tail}")
            return
        build_data["pure_python"] = False
        build_data["infer_tag"] = True
        for source, target in built.items():
            build_data["force_include"][source] = target

    def finalize(self, version: str, build_data: dict[str, Any], artifact_path: str) -> None:
        if self._work is not None:  # set by initialize, which runs first
            shutil.rmtree(self._work, ignore_errors=True)

    def _compile(self, work: Path) -> dict[str, str]:
        """Compile COMPILED; the extension files by where they go in the wheel."""
        setup = work / "setup.py"
        setup.write_text(_SETUP, encoding="utf-8")
        lib = work / "lib"
        paths = ",".join(f"src/schemaguard/{name}.py" for name in COMPILED)
        subprocess.run(
            [sys.executable, str(setup), str(work / "c"), paths, "build_ext",
             "--build-lib", str(lib), "--build-temp", str(work / "tmp"),
             "--parallel", str(os.cpu_count() or 1)],
            cwd=self.root, check=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True)
        suffix = ".pyd" if sys.platform == "win32" else ".so"
        built = {str(path): path.relative_to(lib).as_posix() for path in lib.rglob(f"*{suffix}")}
        expected = {f"schemaguard/{name}." for name in COMPILED}
        missing = {name for name in expected if not any(t.startswith(name) for t in built.values())}
        if missing:
            raise OSError(f"mypyc built no extension for {sorted(missing)}")
        return built
