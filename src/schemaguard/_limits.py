"""Abuse limits (``rate_limits`` and the ``x-rate-limit`` extension): 429 with Retry-After.

Counting is the `limits` package's (fixed, moving and sliding windows over memory or Redis
storage); this module decides what is counted: per operation or across the API, per client
address, per API key, per principal, or one global budget. Keys that need no verifier (client,
API key, global) are counted before authentication, so floods of bad credentials are limited
too; principals are counted after it. API keys and credentials are hashed before they reach
the storage: Redis never holds a secret.
"""

from __future__ import annotations

import hashlib
import math
import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ._http import HttpRequest
from ._operation import Operation, OperationPlan
from ._security import RequestContext, Scheme
from ._source import split_pointer
from ._spec import Spec
from .errors import TooManyRequests, Violation

KEYS = ("client", "api_key", "principal", "global")
PER = ("operation", "api")
STRATEGIES = ("fixed-window", "moving-window", "sliding-window")
_PRE_AUTH = frozenset({"client", "api_key", "global"})


@dataclass(frozen=True, slots=True)
class RateLimit:
    """One limit: ``limit`` in the `limits` notation ("100/minute", "10/second;1000/hour"),
    counted per ``key`` ("client", "api_key", "principal", "global" or a callable of the
    HttpRequest that returns a string), either per operation or across the API (``per``),
    for ``operations`` (operationIds or "METHOD /path"; None: every operation)."""

    limit: str
    key: str | Callable[[HttpRequest], str] = "client"
    per: str = "operation"
    strategy: str = "fixed-window"
    operations: Sequence[str] | None = None


@dataclass(frozen=True, slots=True)
class _Rule:
    index: int
    items: tuple[Any, ...]  # limits.RateLimitItem
    key: str | Callable[[HttpRequest], str]
    per: str
    limiter: Any  # limits.strategies.RateLimiter


def limiter_for(spec: Spec, plans: Mapping[Operation, OperationPlan],
                limits: Iterable[RateLimit], storage: Any) -> Limiter | None:
    """The limits of the option and of `x-rate-limit` (root and operations); None: none."""
    limits = list(limits)
    root = spec.content.get("x-rate-limit")
    for raw in (root if isinstance(root, list) else [root] if root is not None else []):
        limits.append(from_extension(raw))
    extensions: dict[Operation, list[Any]] = {}
    api_keys: dict[Operation, list[Scheme]] = {}
    for operation, plan in plans.items():
        raw = _operation_node(spec, operation).get("x-rate-limit")
        if raw is not None:
            extensions[operation] = raw if isinstance(raw, list) else [raw]
        api_keys[operation] = list(dict.fromkeys(
            scheme for requirement in plan.security.requirements
            for scheme, _ in requirement if scheme.type == "apiKey"))
    if not limits and not extensions:
        return None
    return Limiter(limits, storage, list(plans), extensions, api_keys)


def _operation_node(spec: Spec, operation: Operation) -> dict[str, Any]:
    node: Any = spec.content
    for token in split_pointer(operation.pointer):
        node = node.get(token) if isinstance(node, dict) else None
    return node if isinstance(node, dict) else {}


class Limiter:
    """The compiled limits of a guard, by operation."""

    def __init__(self, limits: Iterable[RateLimit], storage: Any,
                 operations: Sequence[Operation], extensions: Mapping[Operation, list[Any]],
                 api_keys: Mapping[Operation, list[Scheme]]) -> None:
        try:
            from limits import parse_many, strategies
            from limits import storage as storages
        except ImportError:
            raise ValueError("rate limits need the protect extra: pip install "
                             "'schemaguard[protect]' (limits)") from None
        self._storage = (storages.storage_from_string(storage) if isinstance(storage, str)
                         else storage)
        self.memory = type(self._storage).__name__ == "MemoryStorage"
        limiters = {"fixed-window": strategies.FixedWindowRateLimiter,
                    "moving-window": strategies.MovingWindowRateLimiter,
                    "sliding-window": strategies.SlidingWindowCounterRateLimiter}
        self._api_keys = api_keys
        self.before: dict[Operation, list[_Rule]] = {}
        self.after: dict[Operation, list[_Rule]] = {}
        rules: list[tuple[RateLimit, Sequence[Operation]]] = []
        for limit in limits:
            rules.append((limit, self._select(limit, operations)))
        for operation, declared in extensions.items():
            for raw in declared:
                rules.append((from_extension(raw, operation), [operation]))
        for index, (limit, applies) in enumerate(rules):
            _check(limit)
            try:
                items = tuple(parse_many(limit.limit))
            except ValueError:
                raise ValueError(f"rate limit {limit.limit!r}: expected e.g. '100/minute' or "
                                 "'10/second;1000/hour'") from None
            limiter: Any = limiters[limit.strategy]
            rule = _Rule(index, items, limit.key, limit.per, limiter(self._storage))
            phase = self.before if isinstance(limit.key, str) and limit.key in _PRE_AUTH \
                else self.after
            for operation in applies:
                phase.setdefault(operation, []).append(rule)

    @staticmethod
    def _select(limit: RateLimit, operations: Sequence[Operation]) -> list[Operation]:
        if limit.operations is None:
            return list(operations)
        wanted = set(limit.operations)
        found = [op for op in operations if op.operation_id in wanted
                 or f"{op.method} {op.path_template}" in wanted]
        named = {op.operation_id for op in found} | {f"{op.method} {op.path_template}"
                                                     for op in found}
        if wanted - named:
            raise ValueError(f"rate limit {limit.limit!r}: no operation "
                             f"`{sorted(wanted - named)[0]}` in the spec")
        return found

    def check(self, rules: list[_Rule], operation: Operation, context: RequestContext,
              principal: Any = None) -> None:
        """Count this request against ``rules``; TooManyRequests when one is exhausted."""
        for rule in rules:
            subject = self._subject(rule, operation, context, principal)
            scope = (f"{operation.method} {operation.path_template}" if rule.per == "operation"
                     else "*")
            identifiers = ("schemaguard", str(rule.index), scope, subject)
            for item in rule.items:
                if not rule.limiter.hit(item, *identifiers):
                    reset = rule.limiter.get_window_stats(item, *identifiers).reset_time
                    retry = max(1, math.ceil(reset - time.time()))
                    raise TooManyRequests(
                        "too many requests: the rate limit is exhausted",
                        (Violation("rate", None, "", "rateLimit",
                                   f"at most {item.amount} requests per "
                                   f"{item.get_expiry()} s", ""),),
                        [("Retry-After", str(retry))])

    def _subject(self, rule: _Rule, operation: Operation, context: RequestContext,
                 principal: Any) -> str:
        key = rule.key
        request = context.request
        if callable(key):
            return "fn:" + _digest(str(key(request)))
        if key == "global":
            return "global"
        if key == "api_key":
            for scheme in self._api_keys.get(operation, []):
                value = _api_key(scheme, context)
                if value:
                    return "key:" + _digest(value)
        if key == "principal" and principal is not None:
            return "principal:" + _digest(_principal_id(principal))
        return "client:" + (request.client or "unknown")


def _api_key(scheme: Scheme, context: RequestContext) -> str | None:
    if scheme.location == "header":
        return context.headers.get(scheme.parameter)
    if scheme.location == "query":
        values = context.raw_query.get(scheme.parameter)
        return values[0] if values else None
    values = context.cookies.get(scheme.parameter)
    return values[0] if values else None


def _principal_id(principal: Any) -> str:
    if isinstance(principal, (str, int)) and not isinstance(principal, bool):
        return str(principal)
    if isinstance(principal, Mapping):
        for name in ("sub", "id", "user_id", "user", "username", "client_id"):
            if name in principal:
                return f"{name}={principal[name]}"
    return repr(principal)


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def _check(limit: RateLimit) -> None:
    if not callable(limit.key) and limit.key not in KEYS:
        raise ValueError(f"rate limit key must be one of {', '.join(KEYS)} or a callable, "
                         f"not {limit.key!r}")
    if limit.per not in PER:
        raise ValueError(f"rate limit per must be one of {', '.join(PER)}, not {limit.per!r}")
    if limit.strategy not in STRATEGIES:
        raise ValueError(f"rate limit strategy must be one of {', '.join(STRATEGIES)}, not "
                         f"{limit.strategy!r}")


# The `limits` notation ("10/second", "100 per minute", "5/2 hours"; several joined by ; , |).
_LIMIT = re.compile(r"^\s*\d+\s*(?:/|per)\s*(?:\d+\s*)?"
                    r"(?:years?|months?|days?|hours?|minutes?|seconds?)\s*$", re.IGNORECASE)


_FIELDS = frozenset({"limit", "key", "per", "strategy"})


def extension_problem(raw: Any) -> str | None:
    """What is wrong with an ``x-rate-limit`` value (`schemaguard check`), or None."""
    for item in raw if isinstance(raw, list) else [raw]:
        if isinstance(item, Mapping):
            unknown = sorted(set(item) - _FIELDS)
            if unknown:
                return f"unknown field `{unknown[0]}`"
            limit = item.get("limit")
            if item.get("key", "client") not in KEYS:
                return f"key must be one of {', '.join(KEYS)}"
            if item.get("per", "operation") not in PER:
                return f"per must be one of {', '.join(PER)}"
            if item.get("strategy", "fixed-window") not in STRATEGIES:
                return f"strategy must be one of {', '.join(STRATEGIES)}"
        else:
            limit = item
        if not isinstance(limit, str) or not all(
                _LIMIT.match(part) for part in re.split(r"[;,|]", limit)):
            return "expected a limit like `100/minute` or `10/second;1000/hour`"
    return None


def from_extension(raw: Any, operation: Operation | None = None) -> RateLimit:
    """An ``x-rate-limit`` value: a limit string or {limit, key, per, strategy}."""
    if isinstance(raw, str):
        return RateLimit(raw)
    if isinstance(raw, Mapping) and isinstance(raw.get("limit"), str) and set(raw) <= {
            "limit", "key", "per", "strategy"}:
        return RateLimit(raw["limit"], raw.get("key", "client"), raw.get("per", "operation"),
                         raw.get("strategy", "fixed-window"))
    where = f" of {operation!r}" if operation is not None else ""
    raise ValueError(f"x-rate-limit{where}: expected a limit like '100/minute' or "
                     "{limit, key, per, strategy}")
