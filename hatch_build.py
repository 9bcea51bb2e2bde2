"""Wheel build hook: compile schemaguard's request path with mypyc.

Building a wheel (``pip install .``) compiles the modules every request runs through into C
extension modules with mypyc; the ``.py`` sources ship beside them, and Python imports the
compiled module when there is one. The code is the same, type-checked with ``mypy --strict``,
so the behaviour is the same: the compiled build only spends fewer instructions per request.

- No working C compiler (or mypyc fails): the wheel is pure Python, with a warning.
  ``SCHEMAGUARD_REQUIRE_COMPILED=1`` makes that an error instead (CI sets it).
- ``SCHEMAGUARD_PURE_PYTHON=1`` builds the pure-Python wheel on purpose.
- Editable installs (``pip install -e .``) stay pure Python, so that edits take effect.
- Profile-guided where the compiler is GCC 10 or newer: the modules are compiled once with
  ``-fprofile-generate``, ``pgo_train.py`` sends its mix of requests through that build, and
  they are compiled again with ``-fprofile-use``; the wheel then holds a ``PROFILE_GUIDED``
  file. Another compiler gives the plain compiled build (said so), and so does a failure on
  the way (with a warning); ``SCHEMAGUARD_PGO=0`` skips the step.

``schemaguard.COMPILED`` tells which build is imported.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import sysconfig
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
COMPILED = ("_adapter", "_content", "_depth", "_explain", "_guard", "_http", "_media",
            "_operation", "_params", "_router", "_security", "_verify", "_violations", "_watch",
            "_asgi", "wsgi")

_SETUP = """
import sys
from mypyc.build import mypycify
from setuptools import setup

target, paths = sys.argv.pop(1), sys.argv.pop(1).split(",")
setup(name="schemaguard-compiled", ext_modules=mypycify(
    ["--cache-dir", target + "/mypy-cache", *paths], opt_level="3", target_dir=target))
"""


# With GCC, on every compilation: the compiled functions call each other directly rather
# than through the PLT (mypyc exports them from its shared library, so without
# -fno-semantic-interposition each call between them could be interposed), and call Python's
# C API through the GOT, not PLT stubs. Measured inside FastAPI on the 1 KB POST: the guarded
# app 1.13-1.15x its floor against 1.18x without them.
GCC_FLAGS = "-fno-plt -fno-semantic-interposition"
# The profile-guided build's two compilations (hatch_build.py's own flags come after the
# user's CFLAGS, which setuptools also passes to the linker). Functions the training run never
# reached are compiled as without a profile (-fprofile-partial-training), not for size.
PROFILE_GENERATE = "-fprofile-generate -fprofile-update=single"
PROFILE_USE = "-fprofile-use -fprofile-partial-training -Wno-missing-profile"
MARKER = "PROFILE_GUIDED"  # in the wheel's package when the build is profile-guided


def _flag(name: str) -> bool:
    return os.environ.get(name, "").strip() not in ("", "0")


def why_not_gcc() -> str | None:
    """None when the C compiler setuptools will use is GCC 10 or newer (GCC_FLAGS and the
    profile-guided build as this hook runs them), else why it is not."""
    if sys.platform == "win32":
        return "not on Windows"
    command = (os.environ.get("CC") or sysconfig.get_config_var("CC") or "cc").split()
    try:
        found = subprocess.run([command[0], "--version"], capture_output=True, text=True,
                               timeout=60, check=True).stdout
        version = subprocess.run([command[0], "-dumpfullversion", "-dumpversion"],
                                 capture_output=True, text=True, timeout=60,
                                 check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return f"{command[0]} did not answer --version"
    if "Free Software Foundation" not in found:
        return f"{command[0]} is not GCC"
    major = re.match(r"\d+", version.strip())
    if major is None or int(major.group()) < 10:
        return f"{command[0]} is GCC {version.strip()}, older than 10"
    return None


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
        """Compile COMPILED, profile-guided where it can be; the extension files by where
        they go in the wheel."""
        setup = work / "setup.py"
        setup.write_text(_SETUP, encoding="utf-8")
        not_gcc = why_not_gcc()
        why_not = "SCHEMAGUARD_PGO=0" if os.environ.get("SCHEMAGUARD_PGO", "").strip() == "0" \
            else not_gcc
        if why_not is None:
            try:
                return self._profile_guided(work)
            except (OSError, subprocess.SubprocessError) as exc:
                output = getattr(exc, "stdout", None) or str(exc)
                tail = "\n".join(str(output).splitlines()[-25:])
                self.app.display_warning("schemaguard: the profile-guided build failed; "
                                         f"building without a profile:\n{tail}")
                for stage in ("c", "lib", "tmp", "train"):
                    shutil.rmtree(work / stage, ignore_errors=True)
        else:
            self.app.display_info(f"schemaguard: no profile-guided build ({why_not})")
        return self._build(work, GCC_FLAGS if not_gcc is None else "")

    def _build(self, work: Path, cflags: str, *options: str) -> dict[str, str]:
        """One compilation with ``cflags`` after the user's CFLAGS."""
        lib = work / "lib"
        paths = ",".join(f"src/schemaguard/{name}.py" for name in COMPILED)
        env = dict(os.environ)
        if cflags:
            env["CFLAGS"] = f"{env.get('CFLAGS', '')} {cflags}".strip()
        subprocess.run(
            [sys.executable, str(work / "setup.py"), str(work / "c"), paths, "build_ext",
             "--build-lib", str(lib), "--build-temp", str(work / "tmp"),
             "--parallel", str(os.cpu_count() or 1), *options],
            cwd=self.root, env=env, check=True, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True)
        suffix = ".pyd" if sys.platform == "win32" else ".so"
        built = {str(path): path.relative_to(lib).as_posix() for path in lib.rglob(f"*{suffix}")}
        expected = {f"schemaguard/{name}." for name in COMPILED}
        missing = {name for name in expected if not any(t.startswith(name) for t in built.values())}
        if missing:
            raise OSError(f"mypyc built no extension for {sorted(missing)}")
        return built

    def _profile_guided(self, work: Path) -> dict[str, str]:
        """Instrumented build, the training run on it, and the build that uses its profile
        (in the same build directory: gcc finds each object's profile beside it)."""
        built = self._build(work, f"{GCC_FLAGS} {PROFILE_GENERATE}")
        train = work / "train"
        package = train / "schemaguard"
        shutil.copytree(Path(self.root) / "src" / "schemaguard", package)
        for source, target in built.items():
            shutil.copy2(source, train / target)
        # In front of what is there: pip's isolated build environment finds its packages
        # (orjson, jsonschema-rs...) through PYTHONPATH.
        paths = [str(train), *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(paths), "PYTHONDONTWRITEBYTECODE": "1"}
        subprocess.run([sys.executable, str(Path(self.root) / "pgo_train.py")], cwd=train,
                       env=env, check=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True, timeout=600)
        if not any((work / "tmp").rglob("*.gcda")):
            raise OSError("the training run left no profile")
        built = self._build(work, f"{GCC_FLAGS} {PROFILE_USE}", "--force")
        marker = work / MARKER
        marker.write_text("The compiled modules were built with gcc -fprofile-use, trained "
                          "by pgo_train.py.\n", encoding="utf-8")
        return {**built, str(marker): f"schemaguard/{MARKER}"}
