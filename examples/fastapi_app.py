"""A FastAPI petstore guarded by schemaguard (specs/petstore-3.0.yaml).

Run it:  uvicorn --app-dir examples fastapi_app:app
Handlers read the validated, typed inputs from ``request.state.schemaguard``.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse

from schemaguard.asgi import GuardMiddleware

SPEC = Path(__file__).resolve().parent.parent / "specs" / "petstore-3.0.yaml"
API_KEYS = {"demo-key": {"user": "demo"}}


async def check_token(credentials: Any) -> Any:
    """An async verifier: awaited by the middleware (a real one would ask an IdP)."""
    return {"user": "admin"} if credentials.value == "demo-token" else None


app = FastAPI()
PETS: dict[int, dict[str, Any]] = {
    1: {"id": 1, "name": "Rex", "species": "dog", "tag": None,
        "createdAt": "2024-01-01T00:00:00Z"},
}


@app.get("/api/pets")
async def list_pets(request: Request) -> Response:
    query = request.state.schemaguard.query
    tags = set(query.get("tags", []))
    pets = [p for p in PETS.values() if not tags or p.get("tag") in tags]
    page = pets[query["offset"]:query["offset"] + query["limit"]]
    return JSONResponse(page, headers={"X-Total-Count": str(len(pets))})


@app.post("/api/pets")
async def create_pet(request: Request) -> Response:
    body = request.state.schemaguard.body
    pet_id = max(PETS, default=0) + 1
    pet = {**body, "id": pet_id, "createdAt": datetime.now(timezone.utc).isoformat()}
    PETS[pet_id] = pet
    return JSONResponse(pet, status_code=201, headers={"Location": f"/api/pets/{pet_id}"})


@app.get("/api/pets/{pet_id}")
async def get_pet(request: Request) -> Response:
    pet = PETS.get(request.state.schemaguard.path_params["petId"])
    if pet is None:
        return JSONResponse({"code": 404, "message": "no such pet"}, status_code=404)
    return JSONResponse(pet)


@app.put("/api/pets/{pet_id}")
async def replace_pet(request: Request) -> Response:
    validated = request.state.schemaguard
    current = PETS.get(validated.path_params["petId"])
    if current is None:
        return JSONResponse({"code": 404, "message": "no such pet"}, status_code=404)
    pet = {**validated.body, "id": current["id"], "createdAt": current["createdAt"]}
    PETS[current["id"]] = pet
    return JSONResponse(pet)


@app.delete("/api/pets/{pet_id}")
async def delete_pet(pet_id: int) -> Response:
    if PETS.pop(pet_id, None) is None:
        return JSONResponse({"code": 404, "message": "no such pet"}, status_code=404)
    return Response(status_code=204)


app.add_middleware(
    GuardMiddleware,
    spec=SPEC,
    verifiers={"apiKey": lambda c: API_KEYS.get(c.value or ""), "bearer": check_token},
    validate_responses="enforce",
)
