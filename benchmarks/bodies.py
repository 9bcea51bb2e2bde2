"""Deterministic request bodies for the benchmarks (specs/bench.yaml).

Nothing random happens at import: every builder takes its own ``random.Random(seed)``.

* ``new_pet_valid()``   -- a ~1 KB ``NewPet`` (``POST /pets``), padded to ``NEW_PET_BYTES``
  with the ``notes`` field (maxLength 2000).
* ``pet_batch_valid()`` -- a ~100 KB ``PetBatch`` (``POST /pets/batch``): varied pets (dog, cat
  and bird branches of the ``Animal`` oneOf, 0-4 vaccinations, nullable fields both ways) added
  until the next one would pass ``PET_BATCH_BYTES``. maxItems is 1000, so the size is reached
  with ~150 pets, far below the limit.
* ``*_invalid()``       -- the same body with a few errors every validator detects (wrong
  types, out-of-range values, a missing required property deep inside). They avoid ``format``
  errors: the validators compared do not assert the same formats.

Sizes are those of ``orjson.dumps(body)`` (compact JSON).
"""

from __future__ import annotations

import random
import uuid
from typing import Any

import orjson

SEED = 20240611
NEW_PET_BYTES = 1024
PET_BATCH_BYTES = 100 * 1024

_NAMES = ["Biscuit", "Pepper", "Mochi", "Juniper", "Otis", "Clementine", "Ziggy", "Hazel",
          "Bruno", "Maple", "Tofu", "Rosie", "Kiwi", "Gus", "Luna", "Waffles"]
_SUFFIX = ["", " Jr", " the Second", " O'Malley", " Star-Gazer", " III"]
_BREEDS = ["Labrador Retriever", "Border Collie", "Nova Scotia Duck Tolling Retriever",
           "Dachshund", "Shiba Inu", "Bernese Mountain Dog", "Whippet", "Beagle"]
_TAGS = ["friendly", "vaccinated", "neutered", "senior", "puppy", "indoor", "outdoor",
         "special-needs", "house-trained", "good-with-cats", "k9", "rescue", "shy", "playful"]
_FIRST = ["Ada", "Grace", "Linus", "Margaret", "Alan", "Barbara", "Ken", "Radia", "Edsger"]
_LAST = ["Lovelace", "Hopper", "Torvalds", "Hamilton", "Turing", "Liskov", "Thompson"]
_STREETS = ["Baker Street", "Elm Avenue", "Harbour Road", "Keizersgracht", "Rue de Rivoli",
            "Unter den Linden", "Queen Street West", "Sveavagen"]
_CITIES = [("London", "GB", "NW1 6XE"), ("Amsterdam", "NL", "1015 CJ"), ("Paris", "FR", "75001"),
           ("Berlin", "DE", "10117"), ("Toronto", "CA", "M5H 2N2"), ("Stockholm", "SE", "111 57"),
           ("Portland", "US", "97205"), ("Krakow", "PL", "31-001")]
_VACCINES = ["Rabies", "Distemper", "Parvovirus", "Leptospirosis", "Feline leukemia",
             "Bordetella", "Polyomavirus"]
_WORDS = ["calm", "loves", "long", "walks", "and", "belly", "rubs", "needs", "daily", "meds",
          "with", "food", "allergic", "to", "chicken", "sleeps", "a", "lot", "afraid", "of",
          "thunder", "knows", "sit", "stay", "paw"]


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _date(rng: random.Random, first: int = 2012, last: int = 2023) -> str:
    return f"{rng.randint(first, last)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"


def _text(rng: random.Random, n_words: int) -> str:
    return " ".join(rng.choice(_WORDS) for _ in range(n_words)).capitalize() + "."


def _animal(rng: random.Random, kind: str) -> dict[str, Any]:
    if kind == "dog":
        return {"pet_type": "dog", "breed": rng.choice(_BREEDS),
                "good_with_kids": rng.random() < 0.7,
                "leash_trained": rng.choice([True, False, None])}
    if kind == "cat":
        return {"pet_type": "cat", "indoor": rng.random() < 0.6, "lives_left": rng.randint(0, 9)}
    return {"pet_type": "bird", "wingspan_cm": round(rng.uniform(8.0, 120.0), 1),
            "can_talk": rng.random() < 0.3}


def _owner(rng: random.Random) -> dict[str, Any]:
    first, last = rng.choice(_FIRST), rng.choice(_LAST)
    city, country, postal = rng.choice(_CITIES)
    return {
        "id": _uuid(rng),
        "name": f"{first} {last}",
        "email": f"{first.lower()}.{last.lower()}@example.com",
        "phone": f"+1 ({rng.randint(200, 999)}) 555-{rng.randint(1000, 9999)}",
        "address": {"street": f"{rng.randint(1, 999)} {rng.choice(_STREETS)}", "city": city,
                    "postal_code": postal, "country": country},
    }


def _vaccination(rng: random.Random) -> dict[str, Any]:
    out: dict[str, Any] = {"name": rng.choice(_VACCINES), "date": _date(rng, 2015)}
    if rng.random() < 0.8:
        out["vet_email"] = f"clinic{rng.randint(1, 40)}@vets.example.org"
    out["batch"] = rng.choice([None, f"LOT-{rng.randint(1000, 99999)}"])
    return out


def _pet(rng: random.Random, kind: str, *, n_vacc: int, n_tags: int, notes: bool) -> dict[str, Any]:
    pet: dict[str, Any] = {
        "name": rng.choice(_NAMES) + rng.choice(_SUFFIX),
        "animal": _animal(rng, kind),
        "status": rng.choice(["available", "pending", "adopted"]),
        "birth_date": _date(rng),
        "registered_at": f"{_date(rng, 2020)}T{rng.randint(0, 23):02d}:"
                         f"{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}Z",
        "microchip_id": _uuid(rng) if rng.random() < 0.8 else None,
        "weight_kg": round(rng.uniform(0.05, 60.0), 2),
        "tags": rng.sample(_TAGS, n_tags),
        "owner": _owner(rng),
        "vaccinations": [_vaccination(rng) for _ in range(n_vacc)],
    }
    if notes:
        pet["notes"] = _text(rng, rng.randint(3, 25))
    elif rng.random() < 0.5:
        pet["notes"] = None
    return pet


def size(body: Any) -> int:
    """Bytes of the compact JSON text of ``body``."""
    return len(orjson.dumps(body))


def new_pet_valid(seed: int = SEED) -> dict[str, Any]:
    rng = random.Random(seed)
    pet = _pet(rng, "dog", n_vacc=3, n_tags=6, notes=True)
    pet["notes"] = ""
    missing = NEW_PET_BYTES - size(pet)
    pet["notes"] = (_text(rng, 400) * 4)[:max(missing, 0)]
    return pet


def new_pet_invalid(seed: int = SEED) -> dict[str, Any]:
    """4 errors: out of range, wrong type in a oneOf branch, deep missing required, wrong type."""
    pet = new_pet_valid(seed)
    pet["weight_kg"] = 250  # maximum: 200
    pet["animal"]["good_with_kids"] = "yes"  # boolean expected (inside the Dog branch)
    del pet["owner"]["address"]["city"]  # required, two levels down
    pet["vaccinations"][1]["date"] = 20200501  # string expected
    return pet


def pet_batch_valid(seed: int = SEED) -> dict[str, Any]:
    rng = random.Random(seed)
    batch: dict[str, Any] = {"pets": [], "idempotency_key": _uuid(rng)}
    total = size(batch)
    kinds = ["dog", "cat", "bird"]
    while True:
        pet = _pet(rng, kinds[len(batch["pets"]) % 3], n_vacc=rng.randint(0, 4),
                   n_tags=rng.randint(0, 6), notes=rng.random() < 0.5)
        grown = total + size(pet) + (1 if batch["pets"] else 0)
        if grown > PET_BATCH_BYTES:
            break
        batch["pets"].append(pet)
        total = grown
    assert total == size(batch), "size bookkeeping is off"
    return batch


def pet_batch_invalid(seed: int = SEED) -> dict[str, Any]:
    """4 errors in pets at ~40 %, ~60 %, ~70 % and the last one (is_valid may stop at the first)."""
    batch = pet_batch_valid(seed)
    pets = batch["pets"]
    n = len(pets)
    del pets[int(n * 0.4)]["owner"]["address"]["postal_code"]  # missing required, deep
    cat = next(p for p in pets[int(n * 0.6):] if p["animal"]["pet_type"] == "cat")
    cat["animal"]["lives_left"] = 12  # maximum: 9 (inside the Cat branch of the oneOf)
    pets[int(n * 0.7)]["weight_kg"] = "heavy"  # number expected
    pets[-1]["tags"] = ["friendly", 42]  # string expected
    return batch


def all_bodies() -> dict[str, bytes]:
    """name -> compact JSON text of each body (what a server would receive)."""
    return {
        "new_pet_valid": orjson.dumps(new_pet_valid()),
        "new_pet_invalid": orjson.dumps(new_pet_invalid()),
        "pet_batch_valid": orjson.dumps(pet_batch_valid()),
        "pet_batch_invalid": orjson.dumps(pet_batch_invalid()),
    }
