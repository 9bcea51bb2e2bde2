"""A declared media type of a request body.

Its own module so that it is compiled (_body, which decodes bodies, stays interpreted:
hatch_build.py says why): the guard reads an entry's fields for every request with a body,
and a compiled class's fields are read in place, with no attribute lookup.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ._http import MediaType
from ._shape import Shape


@dataclass(frozen=True, slots=True)
class MediaEntry:
    """One declared media type of a request body."""

    key: str  # as declared, e.g. "application/*"
    range: MediaType
    schema_pointer: str | None
    shape: Shape
    encoding: dict[str, Any]
    property_json: frozenset[str]  # form/multipart fields whose encoding contentType is JSON
