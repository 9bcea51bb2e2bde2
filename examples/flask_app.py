"""A Flask petstore guarded by schemaguard (specs/petstore-3.0.yaml).

Run it:  flask --app examples/flask_app.py run   (then: curl -H 'X-API-Key: demo-key' ...)
The handlers never re-check their inputs: what reaches them already conforms to the spec, with
typed parameters in ``environ["schemaguard"]``.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from flask import Flask, request

import schemaguard as sg
from schemaguard.wsgi import GuardMiddleware

SPEC = Path(__file__).resolve().parent.parent / "specs" / "petstore-3.0.yaml"
API_KEYS = {"demo-key": {"user": "demo"}}
TOKENS = {"demo-token": {"user": "admin"}}

app = Flask(__name__)
PETS: dict[int, dict[str, Any]] = {
    1: {"id": 1, "name": "Rex", "species": "dog", "tag": None,
        "createdAt": "2024-01-01T00:00:00Z"},
}


def validated() -> sg.ValidatedRequest:
    found: sg.ValidatedRequest = request.environ["schemaguard"]
    return found


@app.get("/api/pets")
def list_pets() -> Any:
    query = validated().query  # typed, defaults applied: {"limit": 20, "offset": 0, ...}
    tags = set(query.get("tags", []))
    pets = [p for p in PETS.values() if not tags or p.get("tag") in tags]
    page = pets[query["offset"]:query["offset"] + query["limit"]]
    return page, 200, {"X-Total-Count": str(len(pets))}


@app.post("/api/pets")
def create_pet() -> Any:
    body = validated().body  # the decoded JSON, already valid against NewPet
    pet_id = max(PETS, default=0) + 1
    pet = {**body, "id": pet_id, "createdAt": datetime.now(timezone.utc).isoformat()}
    PETS[pet_id] = pet
    return pet, 201, {"Location": f"/api/pets/{pet_id}"}


@app.get("/api/pets/<int:pet_id>")
def get_pet(pet_id: int) -> Any:
    pet = PETS.get(validated().path_params["petId"])
    if pet is None:
        return {"code": 404, "message": "no such pet"}, 404
    return pet


@app.put("/api/pets/<int:pet_id>")
def replace_pet(pet_id: int) -> Any:
    current = PETS.get(validated().path_params["petId"])
    if current is None:
        return {"code": 404, "message": "no such pet"}, 404
    pet = {**validated().body, "id": current["id"], "createdAt": current["createdAt"]}
    PETS[pet_id] = pet
    return pet


@app.delete("/api/pets/<int:pet_id>")
def delete_pet(pet_id: int) -> Any:
    if PETS.pop(pet_id, None) is None:
        return {"code": 404, "message": "no such pet"}, 404
    return "", 204


app.wsgi_app = GuardMiddleware(  # type: ignore[method-assign]
    app.wsgi_app,
    SPEC,
    verifiers={
        "apiKey": lambda credentials: API_KEYS.get(credentials.value or ""),
        "bearer": lambda credentials: TOKENS.get(credentials.value or ""),
    },
    validate_responses="enforce",
)
