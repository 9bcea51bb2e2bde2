"""schemaguard: guard HTTP APIs with their OpenAPI 3.0/3.1 contract.

The front door: everything a user needs is importable from here.
"""

from . import _guard
from ._drift import DriftRecorder
from ._guard import Guard, ValidatedRequest
from ._http import HttpRequest, HttpResponse
from ._limits import RateLimit
from ._operation import Operation
from ._scan import Detector, Finding, default_detectors
from ._schema import SchemaValidator, compile_schema
from ._security import Credentials
from ._spec import Spec, load_spec
from ._version import __version__
from .errors import (
    Forbidden,
    InsufficientScope,
    MethodNotAllowed,
    NotFound,
    PayloadTooLarge,
    RequestError,
    RequestTimeout,
    RequestValidationError,
    ResponseValidationError,
    SchemaValidationError,
    SpecError,
    TooManyRequests,
    Unauthorized,
    UnsupportedMediaType,
    VerifierTimeout,
    Violation,
)

# Whether the request path was compiled with mypyc when this copy was built (hatch_build.py);
# False for an editable install or a pure-Python wheel. The behaviour is the same.
COMPILED: bool = not _guard.__file__.endswith(".py")

__all__ = [
    "COMPILED",
    "Credentials",
    "Detector",
    "DriftRecorder",
    "Finding",
    "Forbidden",
    "Guard",
    "HttpRequest",
    "HttpResponse",
    "InsufficientScope",
    "MethodNotAllowed",
    "NotFound",
    "Operation",
    "PayloadTooLarge",
    "RateLimit",
    "RequestError",
    "RequestTimeout",
    "RequestValidationError",
    "ResponseValidationError",
    "SchemaValidationError",
    "SchemaValidator",
    "Spec",
    "SpecError",
    "TooManyRequests",
    "Unauthorized",
    "UnsupportedMediaType",
    "ValidatedRequest",
    "VerifierTimeout",
    "Violation",
    "__version__",
    "compile_schema",
    "default_detectors",
    "load_spec",
]
