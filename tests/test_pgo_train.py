"""pgo_train.py, the profile-guided build's training run (hatch_build.py): every request it
sends gets the answer it expects, through Guard.check_request and both middlewares, so the
training follows the paths a real API's traffic takes (and a change that breaks it fails
here, not only as a build without a profile)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _training() -> ModuleType:
    spec = importlib.util.spec_from_file_location("pgo_train", ROOT / "pgo_train.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["pgo_train"] = module
    spec.loader.exec_module(module)
    return module


def test_every_training_request_gets_the_answer_it_expects() -> None:
    training = _training()
    statuses = {case[4] for case in training.CASES}
    assert {200, 400, 401, 404, 405, 415} <= statuses  # valid and the usual refusals
    training.main(2, compiled_only=False)


def test_a_wrong_expectation_fails_the_training_run(monkeypatch: pytest.MonkeyPatch) -> None:
    training = _training()
    wrong = [(*case[:4], 400) if case[4] == 200 else case for case in training.CASES[:1]]
    monkeypatch.setattr(training, "CASES", wrong)
    with pytest.raises(AssertionError, match="answered 20"):
        training.main(1, compiled_only=False)
