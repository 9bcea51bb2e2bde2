"""_violations.violation: the compiled modules' way of building a Violation.

It sets the six slots through the class's own descriptors instead of calling the interpreted
``__init__`` (a fifth of a refused body's conversion). What comes out must be the record users
get from ``Violation(...)``: same type, fields, equality, hash, immutability and problem entry.
"""

from __future__ import annotations

import copy
import dataclasses
import pickle

import pytest
from hypothesis import given
from hypothesis import strategies as st

from schemaguard import errors
from schemaguard._violations import refusal, violation
from schemaguard.errors import Violation

_LOCATIONS = st.sampled_from(["path", "query", "header", "cookie", "body", "security", "route"])


@given(location=_LOCATIONS, name=st.none() | st.text(max_size=8), pointer=st.text(max_size=12),
       keyword=st.text(max_size=8), message=st.text(max_size=20),
       schema_pointer=st.text(max_size=12))
def test_violation_is_the_record_violation_builds(location: errors.Location, name: str | None,
                                                 pointer: str, keyword: str, message: str,
                                                 schema_pointer: str) -> None:
    made = violation(location, name, pointer, keyword, message, schema_pointer)
    built = Violation(location, name, pointer, keyword, message, schema_pointer)
    assert type(made) is Violation
    assert made == built
    assert hash(made) == hash(built)
    assert repr(made) == repr(built)
    assert made.to_dict() == built.to_dict()
    assert dataclasses.astuple(made) == (location, name, pointer, keyword, message,
                                         schema_pointer)


def test_a_built_violation_stays_frozen_and_copies_like_one() -> None:
    made = violation("body", None, "/a", "type", "expected string", "/components/schemas/A")
    with pytest.raises(dataclasses.FrozenInstanceError):
        made.message = "changed"  # type: ignore[misc]
    assert dataclasses.replace(made, pointer="/b").pointer == "/b"
    assert copy.deepcopy(made) == made
    assert pickle.loads(pickle.dumps(made)) == made


@pytest.mark.parametrize("status_code", [400, 422])
def test_refusal_is_the_error_the_constructor_builds(status_code: int) -> None:
    # _violations.refusal skips the two interpreted __init__s of RequestValidationError; what a
    # handler, a log line or an adapter reads of it must be what the constructor gives.
    found = [violation("body", None, "/a", "type", "expected string", "/x")]
    built = refusal("the request body does not conform to the spec", found, status_code)
    made = errors.RequestValidationError("the request body does not conform to the spec",
                                         found, status_code=status_code)
    assert type(built) is type(made)
    assert vars(built) == vars(made)
    assert built.args == made.args
    assert str(built) == str(made)
    assert (built.status_code, built.title) == (made.status_code, made.title)
    assert built.to_problem() == made.to_problem()
    assert built.headers is not made.headers  # not a list shared between refusals
    copied = pickle.loads(pickle.dumps(built))
    assert vars(copied) == vars(made)
    assert copied.args == made.args
