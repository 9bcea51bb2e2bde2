"""schemaguard end to end: a guarded petstore app, a scripted mix of good and bad requests.

    python examples/demo.py            # the Flask app (WSGI)
    python examples/demo.py --fastapi  # the FastAPI app (ASGI)

Each line shows what the app answered, and for a rejection the first violation schemaguard
reported. Rejected requests never reach a handler.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

KEY = {"X-API-Key": "demo-key"}
TOKEN = {"Authorization": "Bearer demo-token"}
SCRIPT: list[tuple[str, str, str, dict[str, str], Any]] = [
    ("list pets, typed query", "GET", "/api/pets?limit=5&tags=dog", KEY, None),
    ("create a pet", "POST", "/api/pets", KEY,
     {"name": "Fido", "species": "dog", "ownerEmail": "ann@example.com"}),
    ("read one pet (public)", "GET", "/api/pets/1", {}, None),
    ("mass assignment: readOnly id + extra field", "POST", "/api/pets", KEY,
     {"id": 99, "name": "Fido", "species": "dog", "isAdmin": True}),
    ("no credentials", "POST", "/api/pets", {}, {"name": "Fido", "species": "dog"}),
    ("wrong credentials", "GET", "/api/pets", {"X-API-Key": "guess"}, None),
    ("page size past the maximum", "GET", "/api/pets?limit=1000", KEY, None),
    ("lenient integer", "GET", "/api/pets?limit=+10", KEY, None),
    ("path id not an integer", "GET", "/api/pets/abc", {}, None),
    ("bad enum and email", "POST", "/api/pets", KEY,
     {"name": "Tweety", "species": "dragon", "ownerEmail": "not-an-email"}),
    ("form body to a JSON operation", "POST", "/api/pets",
     {**KEY, "Content-Type": "application/x-www-form-urlencoded"}, "name=Fido&species=dog"),
    ("delete needs a bearer token, not a key", "DELETE", "/api/pets/1", KEY, None),
    ("delete with the token", "DELETE", "/api/pets/1", TOKEN, None),
    ("undeclared method", "PATCH", "/api/pets/1", KEY, None),
    ("undocumented path", "GET", "/api/admin/users", KEY, None),
    ("trailing slash is another path", "GET", "/api/pets/", KEY, None),
]


def describe(status: int, body: bytes, headers: dict[str, str]) -> str:
    if status < 400:
        return ""
    try:
        problem = json.loads(body)
    except ValueError:
        return ""
    errors = problem.get("errors") or []
    if not errors:
        extra = headers.get("allow") or headers.get("www-authenticate") or ""
        return f"{problem.get('detail', '')}" + (f" [{extra}]" if extra else "")
    first = errors[0]
    where = first["location"] + (f" {first['name']}" if first.get("name") else "")
    where += f" {first['pointer']}" if first.get("pointer") else ""
    more = f" (+{len(errors) - 1} more)" if len(errors) > 1 else ""
    header = ""
    if "allow" in headers:
        header = f"  [Allow: {headers['allow']}]"
    elif "www-authenticate" in headers:
        header = f"  [WWW-Authenticate: {headers['www-authenticate']}]"
    return f"{where}: {first['message']} ({first['keyword']}){more}{header}"


def run_flask() -> list[tuple[int, bytes, dict[str, str]]]:
    from flask_app import app

    client = app.test_client()
    answers = []
    for _, method, url, headers, body in SCRIPT:
        kwargs: dict[str, Any] = {"headers": headers}
        if isinstance(body, str):
            kwargs["data"] = body
        elif body is not None:
            kwargs["json"] = body
        response = client.open(url, method=method, **kwargs)
        answers.append((response.status_code, response.data,
                        {k.lower(): v for k, v in response.headers.items()}))
    return answers


def run_fastapi() -> list[tuple[int, bytes, dict[str, str]]]:
    import asyncio

    import httpx
    from fastapi_app import app

    async def send_all() -> list[tuple[int, bytes, dict[str, str]]]:
        answers = []
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://demo") as client:
            for _, method, url, headers, body in SCRIPT:
                kwargs: dict[str, Any] = {"headers": headers}
                if isinstance(body, str):
                    kwargs["content"] = body
                elif body is not None:
                    kwargs["json"] = body
                response = await client.request(method, url, **kwargs)
                answers.append((response.status_code, response.content,
                                {k.lower(): v for k, v in response.headers.items()}))
        return answers

    return asyncio.run(send_all())


def main() -> int:
    use_fastapi = "--fastapi" in sys.argv
    answers = run_fastapi() if use_fastapi else run_flask()
    print(f"schemaguard demo: petstore-3.0.yaml guarding a {'FastAPI' if use_fastapi else 'Flask'}"
          " app\n")
    accepted = 0
    for (title, method, url, _, _), (status, body, headers) in zip(SCRIPT, answers,
                                                                    strict=True):
        verdict = "accepted" if status < 400 else "rejected"
        accepted += status < 400
        print(f"{verdict:8} {status}  {method:6} {url:28} {title}")
        reason = describe(status, body, headers)
        if reason:
            print(f"{'':14}-> {reason}")
    print(f"\n{accepted} accepted, {len(SCRIPT) - accepted} rejected before reaching a handler")
    return 0


if __name__ == "__main__":
    sys.exit(main())
