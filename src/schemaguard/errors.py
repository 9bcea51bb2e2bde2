"""What schemaguard raises, and the violation records its errors carry.

The tree::

    Exception
    ├── SpecError                  a spec (or a schema given to compile_schema) cannot be used;
    │                              raised at load/compile time, never per request
    └── ValueError
        └── SchemaValidationError  compile_schema(...).validate(instance) found violations

Every error carries data, not just text: a ``SpecError`` has the JSON pointer into the document
and, when the document came from a file, ``file:line:column``; a ``SchemaValidationError`` has
the tuple of :class:`Violation` records. Messages never contain the offending value.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Location = Literal["path", "query", "header", "cookie", "body", "security", "route", "response"]


@dataclass(frozen=True, slots=True)
class Violation:
    """One way an instance breaks its schema.

    ``pointer`` is the JSON pointer into the instance ("" is the root; for ``required`` and
    ``additionalProperties`` it points at the missing or extra property). ``schema_pointer``
    points into the spec (``/components/schemas/Pet/properties/age/minimum``), or into the
    schema given to ``compile_schema`` when it did not come from a spec.
    """

    location: Location
    name: str | None
    pointer: str
    keyword: str
    message: str
    schema_pointer: str

    def to_dict(self) -> dict[str, str | None]:
        """The problem+json ``errors`` entry for this violation."""
        return {
            "location": self.location,
            "name": self.name,
            "pointer": self.pointer,
            "keyword": self.keyword,
            "message": self.message,
        }


class SpecError(Exception):
    """A spec or schema that cannot be loaded or compiled.

    ``pointer`` is a JSON pointer into the document that holds the problem, ``file``,
    ``line`` and ``column`` (1-based) locate it in the source file when there is one.
    """

    def __init__(
        self,
        message: str,
        *,
        pointer: str = "",
        file: str | None = None,
        line: int | None = None,
        column: int | None = None,
    ) -> None:
        self.message = message
        self.pointer = pointer
        self.file = file
        self.line = line
        self.column = column
        super().__init__(self._render())

    def _render(self) -> str:
        where = ""
        if self.file is not None:
            where = self.file
            if self.line is not None:
                where += f":{self.line}"
                if self.column is not None:
                    where += f":{self.column}"
            where += ": "
        at = f" (at #{self.pointer})" if self.pointer else ""
        return f"{where}{self.message}{at}"


class SchemaValidationError(ValueError):
    """An instance does not conform to a compiled schema."""

    def __init__(self, violations: tuple[Violation, ...]) -> None:
        self.violations = violations
        first = violations[0] if violations else None
        summary = f"{first.message} at `{first.pointer or '/'}`" if first else "invalid instance"
        more = f" (and {len(violations) - 1} more)" if len(violations) > 1 else ""
        super().__init__(summary + more)
