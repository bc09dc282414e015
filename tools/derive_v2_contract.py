"""Derive ``src/audit/systems/poweroffice/contract/v2-contract.yaml`` from the official
PowerOffice Go v2 OpenAPI document: only the paths, operations and schemas the connector
and the write-back use, copied as they stand (facts only), plus the token endpoint, which
the document does not hold (from PowerOffice's developer pages on authentication).

Run by hand when the official document changes (it is not read at run time or in tests):

    python tools/derive_v2_contract.py PATH/TO/poweroffice-v2-openapi.yaml

The official document is published in the public repository stianwe/PowerOfficeGoV2,
``api/openapi.yaml`` (MIT licence).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import yaml

OUT = Path(__file__).resolve().parents[1] / "src/audit/systems/poweroffice/contract/v2-contract.yaml"

#: path -> the operations used (GET lists, GET/PATCH single records).
USED = {
    "/Customers": ["get"],
    "/Customers/{id}": ["get", "patch"],
    "/Suppliers": ["get"],
    "/Suppliers/{id}": ["get", "patch"],
    "/ContactPersons": ["get"],
    "/ContactPersons/{contactId}/{id}": ["get", "patch"],
}

TOKEN_PATH = {
    "servers": [{"url": "/"}],
    "x-source": "PowerOffice Go developer pages, authentication (not in the OpenAPI document)",
    "post": {
        "requestBody": {
            "required": True,
            "content": {
                "application/x-www-form-urlencoded": {
                    "schema": {
                        "type": "object",
                        "required": ["grant_type"],
                        "properties": {"grant_type": {"type": "string", "enum": ["client_credentials"]}},
                    }
                }
            },
        },
        "responses": {
            "200": {
                "description": "",
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "required": ["access_token", "token_type"],
                            "properties": {
                                "access_token": {"type": "string"},
                                "token_type": {"type": "string"},
                                "expires_in": {"type": "integer"},
                            },
                        }
                    }
                },
            },
            "400": {"description": ""},
            "401": {"description": ""},
        },
    },
}


def _refs(node: Any, found: set[str]) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                found.add(value.rsplit("/", 1)[-1])
            else:
                _refs(value, found)
    elif isinstance(node, list):
        for value in node:
            _refs(value, found)


def _facts(node: Any, keep_examples: bool = False) -> Any:
    """``node`` without prose: descriptions dropped (a response's required description
    becomes empty) and examples dropped, except those of a PATCH body (they show the
    JSON Patch operations, ``test`` included)."""
    if isinstance(node, list):
        return [_facts(v, keep_examples) for v in node]
    if not isinstance(node, dict):
        return node
    out = {}
    for key, value in node.items():
        if key in ("description", "summary"):
            continue
        if key in ("example", "examples") and not keep_examples:
            continue
        out[key] = _facts(value, keep_examples or key == "requestBody")
    return out


def _operation(op: dict[str, Any], method: str) -> dict[str, Any]:
    body = op.get("requestBody")
    out = _facts({k: v for k, v in op.items() if k != "requestBody"})
    for response in out.get("responses", {}).values():
        response["description"] = ""
    if body is not None:
        out["requestBody"] = _facts(body, keep_examples=method == "patch")
    return out


def derive(doc: dict[str, Any]) -> dict[str, Any]:
    paths = {p: {m: _operation(doc["paths"][p][m], m) for m in methods} for p, methods in USED.items()}
    schemas = doc["components"]["schemas"]
    wanted: set[str] = {"ProblemDetails"}
    _refs(paths, wanted)
    while True:
        more = set(wanted)
        for name in wanted:
            _refs(schemas[name], more)
        if more == wanted:
            break
        wanted = more
    return {
        "openapi": doc["openapi"],
        "info": {
            "title": "PowerOffice Go v2: the part sesam-sync-audit uses",
            "version": doc["info"]["version"],
            "x-derived-from": "stianwe/PowerOfficeGoV2 api/openapi.yaml (official merged spec)",
        },
        "servers": [{"url": "/v2"}],
        "paths": {**paths, "/OAuth/Token": TOKEN_PATH},
        "components": {"schemas": {n: _facts(schemas[n]) for n in sorted(wanted)}},
    }


def main(argv: list[str]) -> int:
    doc = yaml.safe_load(Path(argv[1]).read_text(encoding="utf-8"))
    OUT.parent.mkdir(parents=True, exist_ok=True)
    text = yaml.safe_dump(derive(doc), sort_keys=False, allow_unicode=True, width=100)
    OUT.write_text("# Derived by tools/derive_v2_contract.py; do not edit by hand.\n" + text, encoding="utf-8")
    sys.stdout.write(f"{OUT}: {len(text)} characters\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
