"""An items inventory API in plain Flask (NOT guarded by schemaguard), with seven seeded bugs.

It implements `specs/buggy.yaml` except for exactly these seven contract bugs, one of each kind,
so that a contract fuzzer (`schemaguard fuzz`, schemathesis) can be shown to find them:

| id | check                       | operation       | what goes wrong                          |
|----|-----------------------------|-----------------|------------------------------------------|
| 1  | server_error                | listItems       | `limit=100` reads past a 100-entry table |
| 2  | negative_data_rejection     | createItem      | no `price` (-> 0) or a long `name`: 201  |
| 3  | response_schema_conformance | createItem      | a price of 2.5 comes back as "2.50"      |
| 4  | positive_data_acceptance    | listItems       | `sort=created` (in the enum) gets 400    |
| 5  | ignored_auth                | deleteItem      | no `X-API-Key` at all still deletes: 204 |
| 6  | unsupported_method          | /items/{itemId} | undocumented `PUT` (an upsert) gets 200  |
| 7  | content_type_conformance    | getItem         | its 404 is `text/plain`, not JSON Error  |

In detail: (1) `PAGE_COST` has entries 0..99, so the allowed maximum `limit=100` raises
IndexError and Flask answers 500. (2) The body check fills a missing (required) `price` with 0
and never checks `name`'s maxLength 20; other invalid bodies do get 400. (3) A non-whole price
is formatted as money ("2.50") in createItem's answer, which breaks Item.price (a number).
(4) `SORT_KEYS` forgot "created". (5) The API key is only compared when the header is there.
(6) `PUT /items/<id>` is a leftover v0 endpoint; it should not exist (405). (7) getItem's
unknown id answers `not found` as text/plain instead of the declared application/json Error.

Everything else conforms: invalid query, path or body input gets 400 application/problem+json,
an unknown id 404 (a JSON Error, but for bug 7), a wrong API key 401. Flask's own 404 for unknown
routes and 405 for other methods stay as they are. State is in memory, seeded with three items;
`create_app()` returns a fresh app, `app` is one.

Run it:  flask --app examples/buggy_app.py run
"""

from __future__ import annotations

import itertools
import math
import re
from typing import Any

from flask import Flask, Response, jsonify, request

API_KEY = "secret-key"
MAX_LIMIT = 100
# Quota units a page costs, by page size.  BUG 1: range(MAX_LIMIT) stops at 99, so limit=100
# indexes past the end (it should be range(MAX_LIMIT + 1)).
PAGE_COST = [1 + size // 25 for size in range(MAX_LIMIT)]
# BUG 4: "created" was forgotten here, so the spec's third sort key is refused.
SORT_KEYS = {"name": lambda item: item["name"], "price": lambda item: item["price"]}
NEW_ITEM_FIELDS = {"name", "price", "tags"}
INTEGER = re.compile(r"-?[0-9]+")
SEED = [("hammer", 12.5, ["tools"]), ("nails", 3, ["tools", "bulk"]), ("glue", 4.25, [])]


def bad_request(detail: str) -> Response:
    answer = jsonify(type="about:blank", title="Bad Request", status=400, detail=detail)
    answer.status_code = 400
    answer.mimetype = "application/problem+json"
    return answer


def parse_id(raw: str) -> int | None:
    return int(raw) if INTEGER.fullmatch(raw) and int(raw) >= 1 else None


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def read_new_item() -> tuple[dict[str, Any] | None, str]:
    """The request's NewItem, or None and why not."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return None, "the body must be a JSON object"
    if set(body) - NEW_ITEM_FIELDS:
        return None, f"unknown fields: {sorted(set(body) - NEW_ITEM_FIELDS)}"
    name = body.get("name")
    if not isinstance(name, str) or not name:  # BUG 2 (half): maxLength 20 is never checked
        return None, "name must be a non-empty string"
    price = body.get("price", 0)  # BUG 2: a missing (required) price silently becomes 0
    if not is_number(price) or price < 0:
        return None, "price must be a number >= 0"
    tags = body.get("tags", [])
    if not isinstance(tags, list) or len(tags) > 3 or not all(isinstance(t, str) for t in tags):
        return None, "tags must be at most 3 strings"
    return {"name": name, "price": price, "tags": tags}, ""


def create_app() -> Flask:
    app = Flask(__name__)
    items: dict[int, dict[str, Any]] = {}
    ids = itertools.count(1)
    quota = {"used": 0}
    for name, price, tags in SEED:
        item_id = next(ids)
        items[item_id] = {"id": item_id, "name": name, "price": price, "tags": tags}

    @app.get("/items")
    def list_items() -> Any:
        raw_limit = request.args.get("limit", "20")
        if not INTEGER.fullmatch(raw_limit) or not 1 <= int(raw_limit) <= MAX_LIMIT:
            return bad_request("limit must be an integer from 1 to 100")
        limit = int(raw_limit)
        sort = request.args.get("sort")
        if sort is not None and sort not in SORT_KEYS:
            return bad_request(f"cannot sort by {sort!r}")
        quota["used"] += PAGE_COST[limit]
        page = list(items.values())
        if sort is not None:
            page.sort(key=SORT_KEYS[sort])
        return jsonify(page[:limit])

    @app.post("/items")
    def create_item() -> Any:
        fields, why = read_new_item()
        if fields is None:
            return bad_request(why)
        item_id = next(ids)
        items[item_id] = item = {"id": item_id, **fields}
        price = item["price"]
        if isinstance(price, float) and not price.is_integer():
            # BUG 3: "pretty" money for the receipt, but Item.price is a number, not a string.
            item = {**item, "price": f"{price:.2f}"}
        return item, 201

    @app.get("/items/<path:raw_id>")
    def get_item(raw_id: str) -> Any:
        item_id = parse_id(raw_id)
        if item_id is None:
            return bad_request("itemId must be an integer >= 1")
        if item_id not in items:
            # BUG 7: the spec declares an application/json Error for 404.
            return "not found", 404, {"Content-Type": "text/plain"}
        return items[item_id]

    @app.delete("/items/<path:raw_id>")
    def delete_item(raw_id: str) -> Any:
        key = request.headers.get("X-API-Key")
        if key is not None and key != API_KEY:  # BUG 5: no key at all is let through
            return {"code": 401, "message": "wrong API key"}, 401
        item_id = parse_id(raw_id)
        if item_id is None:
            return bad_request("itemId must be an integer >= 1")
        if items.pop(item_id, None) is None:
            return {"code": 404, "message": "no such item"}, 404
        return "", 204

    @app.put("/items/<path:raw_id>")
    def replace_item(raw_id: str) -> Any:
        # BUG 6: a legacy upsert the spec does not have; undocumented methods must answer 405.
        item_id = parse_id(raw_id)
        if item_id is None:
            return bad_request("itemId must be an integer >= 1")
        fields, _ = read_new_item()
        item = items.setdefault(item_id, {"id": item_id, "name": "unnamed", "price": 0, "tags": []})
        item.update(fields or {})
        return item, 200

    return app


app = create_app()
