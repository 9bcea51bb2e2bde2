"""schemaguard: guard HTTP APIs with their OpenAPI 3.0/3.1 contract.

The front door: everything a user needs is importable from here.
"""


from ._schema import SchemaValidator, compile_schema
from ._spec import Spec, load_spec
from ._version import __version__
from .errors import SchemaValidationError, SpecError, Violation

__all__ = [
    "SchemaValidationError",
    "SchemaValidator",
    "Spec",
    "SpecError",
    "Violation",
    "__version__",
    "compile_schema",
    "load_spec",
]
