"""What schemaguard raises, and the violation records its errors carry.

The tree::

    Exception
    ├── SpecError                  a spec (or a schema given to compile_schema) cannot be used;
    │                              raised at load/compile time, never per request
    ├── RequestError               a request the guard refuses; status, headers, violations,
    │   │                          and to_problem() for an RFC 9457 answer
    │   ├── RequestValidationError     400 (or 422 by option)
    │   ├── Unauthorized               401, always with a WWW-Authenticate challenge
    │   ├── Forbidden                  403
    │   ├── NotFound                   404
    │   ├── MethodNotAllowed           405, with Allow
    │   ├── RequestTimeout             408
    │   ├── PayloadTooLarge            413
    │   ├── UnsupportedMediaType       415
    │   └── TooManyRequests            429
    ├── ResponseValidationError    a response that breaks the spec (check_response)
    ├── InsufficientScope          raised by a verifier: valid credential, missing scope (403)
    ├── VerifierTimeout            a verifier did not answer within verifier_timeout: a fault
    │                              on the server's side, never the client's (503)
    └── ValueError
        └── SchemaValidationError  compile_schema(...).validate(instance) found violations

Every error carries data, not just text: a ``SpecError`` has the JSON pointer into the document
and, when the document came from a file, ``file:line:column``; a ``SchemaValidationError`` has
the tuple of :class:`Violation` records. Messages never contain the offending value.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

Location = Literal["path", "query", "header", "cookie", "body", "security", "route", "response",
                   "rate"]


SHOWN = 200  # characters of a client-made text a problem document or log line shows


def shown(text: str, limit: int = SHOWN) -> str:
    """``text`` as safe to show: non-printable characters escaped, at most ``limit`` long."""
    if not text.isprintable():
        text = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
    return text if len(text) <= limit else text[:limit - 1] + "\u2026"


@dataclass(frozen=True, slots=True, init=False)
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

    def __init__(self, location: Location, name: str | None, pointer: str, keyword: str,
                 message: str, schema_pointer: str) -> None:
        # Frozen: the fields are set through their slots (one is built per violation, and
        # the dataclass __init__'s object.__setattr__ per field costs twice as much).
        _set_location(self, location)
        _set_name(self, name)
        _set_pointer(self, pointer)
        _set_keyword(self, keyword)
        _set_message(self, message)
        _set_schema_pointer(self, schema_pointer)

    def to_dict(self) -> dict[str, str | None]:
        """The problem+json ``errors`` entry for this violation (as logged, too). A pointer
        can hold the client's own property names: past 200 characters it is cut, and
        characters that are not printable are shown escaped (bad-inputs L15)."""
        pointer = self.pointer
        if len(pointer) > SHOWN or not pointer.isprintable():
            pointer = shown(pointer)
        return {
            "location": self.location,
            "name": self.name,
            "pointer": pointer,
            "keyword": self.keyword,
            "message": self.message,
        }


(_set_location, _set_name, _set_pointer, _set_keyword, _set_message, _set_schema_pointer) = (
    Violation.__dict__[name].__set__
    for name in ("location", "name", "pointer", "keyword", "message", "schema_pointer"))
# For the compiled modules, which build violations on every refusal: the same six slot
# setters called from compiled code, without the interpreted __init__ (_violations.violation).
SLOT_SETTERS = (_set_location, _set_name, _set_pointer, _set_keyword, _set_message,
                _set_schema_pointer)


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


class RequestError(Exception):
    """A request the guard refuses. Subclasses fix ``status_code`` and ``title``."""

    status_code: int = 400
    title: str = "Bad Request"

    def __init__(
        self,
        detail: str,
        violations: Sequence[Violation] = (),
        headers: Sequence[tuple[str, str]] = (),
        *,
        type: str = "about:blank",
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.violations = tuple(violations)
        self.headers = list(headers)
        self.type = type
        self.operation: Any = None  # the Operation it was raised for, when one matched

    def to_problem(self) -> dict[str, Any]:
        """The RFC 9457 problem document for this error (never echoes request values)."""
        return {
            "type": self.type,
            "title": self.title,
            "status": self.status_code,
            "detail": self.detail,
            "errors": [violation.to_dict() for violation in self.violations],
        }


class RequestValidationError(RequestError):
    status_code = 400
    title = "Bad Request"

    def __init__(
        self,
        detail: str,
        violations: Sequence[Violation] = (),
        headers: Sequence[tuple[str, str]] = (),
        *,
        status_code: int = 400,
        type: str = "about:blank",
    ) -> None:
        super().__init__(detail, violations, headers, type=type)
        if status_code == 422:
            self.status_code = 422
            self.title = "Unprocessable Content"


class Unauthorized(RequestError):
    status_code = 401
    title = "Unauthorized"


class Forbidden(RequestError):
    status_code = 403
    title = "Forbidden"


class NotFound(RequestError):
    status_code = 404
    title = "Not Found"


class MethodNotAllowed(RequestError):
    status_code = 405
    title = "Method Not Allowed"


class RequestTimeout(RequestError):
    status_code = 408
    title = "Request Timeout"


class PayloadTooLarge(RequestError):
    status_code = 413
    title = "Content Too Large"


class UnsupportedMediaType(RequestError):
    status_code = 415
    title = "Unsupported Media Type"


class TooManyRequests(RequestError):
    status_code = 429
    title = "Too Many Requests"


class ResponseValidationError(Exception):
    """A response that does not conform to the spec."""

    def __init__(self, detail: str, violations: Sequence[Violation] = ()) -> None:
        super().__init__(detail)
        self.detail = detail
        self.violations = tuple(violations)


class InsufficientScope(Exception):
    """Raised by a verifier for a valid credential that lacks a required scope (403)."""

    def __init__(self, scopes: Sequence[str] = ()) -> None:
        super().__init__("insufficient scope")
        self.scopes = tuple(scopes)


class VerifierTimeout(Exception):
    """A security verifier did not answer within the guard's ``verifier_timeout``.

    Not a ``RequestError``: the client did nothing wrong, the server could not decide in time
    (the middlewares answer a generic 503). ``scheme`` is the security scheme's name in the
    spec, ``seconds`` the limit; the message names only those, nothing from the request.
    """

    def __init__(self, scheme: str, seconds: float) -> None:
        super().__init__(f"the verifier for `{scheme}` did not answer within {seconds:g} s")
        self.scheme = scheme
        self.seconds = seconds
