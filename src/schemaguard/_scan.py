"""Sensitive data in responses (``scan_responses``): secrets in the bytes, fields by the schema.

Two passes, neither of them a Python walk over the whole body:

* the serialized body goes once through one RE2 automaton built from every detector (payment
  cards, US SSNs, IBANs, private keys, cloud access keys, JWTs, bearer tokens, password
  hashes); a candidate counts only when its checksum holds (python-stdnum's Luhn, SSN and IBAN
  checks), so a 16-digit order id that fails Luhn is not a card;
* the parsed body goes once through the *closed* response validator (jsonschema-rs): the
  response schema with every object closed over the properties it declares, and properties
  marked ``writeOnly``, ``format: password`` or ``x-sensitive: true`` forbidden. A response it
  accepts exposes nothing the schema does not name; when it refuses one, its violations are the
  undeclared and sensitive properties, with their pointers.

Only when the byte pass found something are the body's strings walked, to give each secret its
pointer and, for ``redact``, to replace it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from ._source import join_pointer, split_pointer

REDACTED = "[REDACTED]"
SCAN_MODES = ("off", "report", "redact", "block")


@dataclass(frozen=True, slots=True)
class Detector:
    """A kind of secret: an RE2 pattern with one capture group around the secret, and an
    optional ``check`` that confirms a candidate (a checksum), so look-alikes do not count."""

    name: str
    pattern: str
    check: Callable[[str], bool] | None = None


@dataclass(frozen=True, slots=True)
class Finding:
    """Where sensitive data was found and by which detector (never the value)."""

    pointer: str
    detector: str

    def to_dict(self) -> dict[str, str]:
        return {"pointer": self.pointer, "detector": self.detector}


def _digits(text: str) -> str:
    return text.replace(" ", "").replace("-", "")


def _card(text: str) -> bool:
    from stdnum import luhn

    digits = _digits(text)
    # 13 to 19 digits (ISO/IEC 7812), a known issuer range's first digit, and the Luhn check.
    return 13 <= len(digits) <= 19 and digits[0] in "23456" and len(set(digits)) > 1 and \
        luhn.is_valid(digits)


def _ssn(text: str) -> bool:
    from stdnum.us import ssn

    return bool(ssn.is_valid(text))


def _iban(text: str) -> bool:
    from stdnum import iban

    return bool(iban.is_valid(text))


DETECTORS: tuple[Detector, ...] = (
    Detector("card_number", r"\b([0-9](?:[ -]?[0-9]){12,18})\b", _card),
    Detector("us_ssn", r"\b([0-9]{3}-[0-9]{2}-[0-9]{4})\b", _ssn),
    Detector("iban", r"\b([A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]){11,30})\b", _iban),
    Detector("private_key", r"(-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----)"),
    Detector("cloud_access_key", r"\b((?:AKIA|ASIA)[0-9A-Z]{16}|AIza[0-9A-Za-z_\-]{35})\b"),
    Detector("jwt", r"\b(eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,})"),
    Detector("bearer_token", r"\b([Bb]earer [A-Za-z0-9._~+/-]{16,}=*)"),
    Detector("password_hash",
             r"(\$(?:2[aby]|argon2id|argon2i|argon2d|pbkdf2-sha256|[156])\$[./A-Za-z0-9$=,+-]{20,})"),
)


def default_detectors() -> tuple[Detector, ...]:
    """The built-in detectors (extend them: ``[*default_detectors(), Detector(...)]``)."""
    return DETECTORS


class Scanner:
    """Every detector in one RE2 automaton: one pass over a body finds every candidate."""

    def __init__(self, detectors: Sequence[Detector]) -> None:
        try:
            import re2
        except ImportError:
            raise ValueError("scan_responses needs the protect extra: pip install "
                             "'schemaguard[protect]' (google-re2, python-stdnum)") from None
        self.detectors = tuple(detectors)
        names = [d.name for d in self.detectors]
        if len(set(names)) != len(names):
            raise ValueError("detector names must be unique")
        for detector in self.detectors:
            try:
                groups = re2.compile(detector.pattern).groups
            except Exception as exc:  # re2.error
                raise ValueError(f"detector {detector.name!r}: not an RE2 pattern: "
                                 f"{exc}") from None
            if groups != 1:
                raise ValueError(f"detector {detector.name!r}: the pattern needs exactly one "
                                 "capture group, around the secret")
        combined = "|".join(f"(?:{d.pattern})" for d in self.detectors) or "(x)^"
        self._text = re2.compile(combined)
        self._bytes = re2.compile(combined.encode("utf-8"))

    def _confirmed(self, matches: Iterator[Any]) -> Iterator[tuple[Detector, int, int]]:
        for match in matches:
            for i, detector in enumerate(self.detectors, 1):
                start, end = match.span(i)
                if start < 0:
                    continue
                if detector.check is None or detector.check(_as_text(match.group(i))):
                    yield detector, start, end
                break

    def found(self, body: bytes) -> list[str]:
        """The confirmed secrets in the serialized body, as text (empty: nothing found)."""
        return list(dict.fromkeys(body[start:end].decode("utf-8", "replace") for _, start, end
                                  in self._confirmed(self._bytes.finditer(body))))

    def in_text(self, text: str) -> list[tuple[Detector, int, int]]:
        return list(self._confirmed(self._text.finditer(text)))


def _as_text(value: str | bytes) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value


def secrets_in(scanner: Scanner, document: Any,
               texts: list[str]) -> list[tuple[str, Detector, Any]]:
    """(pointer, detector, path) of each string of ``document`` holding a secret; a key counts
    as its object's place. ``texts`` are the secrets the byte pass found: only strings that
    contain one of them are scanned again (a substring test per string, no regex)."""
    found: list[tuple[str, Detector, Any]] = []

    def suspect(text: str) -> bool:
        return any(secret in text for secret in texts)

    def hit(text: str, path: tuple[str | int, ...], own: bool) -> None:
        matches = scanner.in_text(text)
        if matches:
            found.append((join_pointer("", *path), matches[0][0], path if own else None))
            found.extend((join_pointer("", *path), m[0], path if own else None)
                         for m in matches[1:])

    def walk(node: Any, path: tuple[str | int, ...]) -> None:
        items = node.items() if type(node) is dict else enumerate(node)
        for key, value in items:
            kind = type(value)
            if kind is str:
                if suspect(value):
                    hit(value, (*path, key), True)
            elif kind is dict or kind is list:
                walk(value, (*path, key))
            if type(key) is str and suspect(key):
                hit(key, path, False)

    if isinstance(document, str):
        if suspect(document):
            hit(document, (), True)
    elif isinstance(document, (dict, list)):
        walk(document, ())
    found.sort(key=lambda f: f[0])
    return found


def redact_text(scanner: Scanner, text: str) -> str:
    """``text`` with every confirmed secret replaced by [REDACTED]."""
    spans = scanner.in_text(text)
    for _, start, end in sorted(spans, key=lambda s: s[1], reverse=True):
        text = text[:start] + REDACTED + text[end:]
    return text


def redacted_document(scanner: Scanner, document: Any, secret_paths: list[Any],
                      removed: list[tuple[str | int, ...]],
                      masked: list[tuple[str | int, ...]]) -> Any:
    """``document`` (changed in place: it is the guard's own parse of the body) with secrets in
    strings replaced, ``masked`` values replaced and ``removed`` properties dropped: still
    valid JSON, with the same shape elsewhere."""
    for path in secret_paths:
        if path is None:
            continue
        parent, key = _parent(document, path)
        if parent is not None and isinstance(parent[key], str):
            parent[key] = redact_text(scanner, parent[key])
        elif not path and isinstance(document, str):
            document = redact_text(scanner, document)
    for path in masked:
        parent, key = _parent(document, path)
        if parent is not None:
            parent[key] = REDACTED
    for path in sorted(removed, key=len, reverse=True):
        parent, key = _parent(document, path)
        if isinstance(parent, dict):
            parent.pop(key, None)
    return document


def _parent(document: Any, path: tuple[str | int, ...]) -> tuple[Any, Any]:
    if not path:
        return None, None
    node = document
    for token in path[:-1]:
        try:
            node = node[token]
        except (KeyError, IndexError, TypeError):
            return None, None
    key = path[-1]
    try:
        node[key]
    except (KeyError, IndexError, TypeError):
        return None, None
    return node, key


def serialize(document: Any) -> bytes:
    try:
        return orjson.dumps(document)
    except TypeError:  # integers past 64 bits
        return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def path_of(document: Any, pointer: str) -> tuple[str | int, ...] | None:
    """The key path of ``pointer`` in ``document`` (list indexes as integers)."""
    node = document
    path: list[str | int] = []
    for token in split_pointer(pointer):
        if isinstance(node, list):
            try:
                index = int(token)
                node = node[index]
            except (ValueError, IndexError):
                return None
            path.append(index)
        elif isinstance(node, dict) and token in node:
            node = node[token]
            path.append(token)
        else:
            return None
    return tuple(path)
