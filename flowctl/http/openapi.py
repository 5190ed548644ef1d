"""The OpenAPI 3.1 document the server publishes at ``/openapi.json``.

Written by hand, beside the handlers it describes; the schemathesis tests
(``tests/http/test_openapi.py``) generate requests from it and check every
answer against it, so a change to one without the other fails there.
"""

from __future__ import annotations

from typing import Any, Final

from flowctl import __version__

_ERROR: Final = {"$ref": "#/components/schemas/Error"}


def document(base_url: str | None = None) -> dict[str, Any]:
    """The document; ``servers`` names ``base_url`` when one is configured."""
    doc: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {
            "title": "flowctl",
            "version": __version__,
            "description": "Events and forms in; open and click tracking; one-click unsubscribe.",
        },
        "paths": _paths(),
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": _schemas(),
        },
    }
    if base_url:
        doc["servers"] = [{"url": base_url.rstrip("/")}]
    return doc


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ERROR}}}


def _json(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _page(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"text/html": {"schema": {"type": "string"}}}}


_TOKEN: Final = {"name": "token", "in": "path", "required": True, "schema": {"type": "string"}}
_REJECTED: Final = _error("The request was refused; ``error`` says why.")
_BUSY: Final = _error("The store is not available; try again.")
_FORBIDDEN: Final = _error("The server's user lacks the right to record events.")


def _paths() -> dict[str, Any]:
    ingest = {"$ref": "#/components/schemas/IngestResult"}
    unknown = _error("The token is not one this server signed.")
    return {
        "/v1/events": {
            "post": {
                "summary": "Record one event or an array of events (spec §11)",
                "security": [{"bearer": []}],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/Events"}}
                    },
                },
                "responses": {
                    "202": _json("Accepted: counts, and the items rejected by index.", ingest),
                    "400": _error("The body is not JSON, or not an event or array."),
                    "401": _error("No bearer token, or a wrong one."),
                    "403": _FORBIDDEN,
                    "413": _error("The body is too large, or holds too many events."),
                    "415": _error("The body is not application/json."),
                    "422": _json("Every item was rejected.", ingest),
                    "503": _BUSY,
                },
            }
        },
        "/v1/forms/{form}": {
            "post": {
                "summary": "A website form: upsert the contact by e-mail, record form_submitted",
                "parameters": [
                    {
                        "name": "form",
                        "in": "path",
                        "required": True,
                        "schema": {
                            "type": "string",
                            "pattern": "^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$",
                        },
                    },
                    {"name": "redirect", "in": "query", "schema": {"type": "string"}},
                ],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/x-www-form-urlencoded": {
                            "schema": {"$ref": "#/components/schemas/FormFields"}
                        },
                        "application/json": {"schema": {"$ref": "#/components/schemas/FormFields"}},
                    },
                },
                "responses": {
                    "202": _json("Recorded.", {"$ref": "#/components/schemas/FormResult"}),
                    "303": {"description": "Recorded; on to the thank-you page."},
                    "400": _error("Not a form, or a redirect that is not allowed."),
                    "403": _FORBIDDEN,
                    "404": _error("Not a form name."),
                    "413": _error("The body is over 1 MiB, or holds more than 200 fields."),
                    "415": _error("Neither urlencoded nor JSON."),
                    "422": _error("No usable e-mail address."),
                    "503": _BUSY,
                },
            }
        },
        "/t/o/{token}": {
            "get": {
                "summary": "The open pixel: records email_opened",
                "parameters": [_TOKEN],
                "responses": {
                    "200": {
                        "description": "A 1x1 GIF.",
                        "content": {"image/gif": {"schema": {"type": "string"}}},
                    },
                    "404": unknown,
                },
            }
        },
        "/t/c/{token}": {
            "get": {
                "summary": "A tracked link: records email_link_clicked, redirects to its URL",
                "parameters": [_TOKEN],
                "responses": {"302": {"description": "On to the link's URL."}, "404": unknown},
            }
        },
        "/u/{token}": {
            "get": {
                "summary": "A page with the unsubscribe button (changes nothing)",
                "parameters": [_TOKEN],
                "responses": {"200": _page("The page."), "404": unknown},
            },
            "post": {
                "summary": "Unsubscribe (RFC 8058 one-click)",
                "parameters": [_TOKEN],
                "responses": {
                    "200": _page("Unsubscribed."),
                    "404": unknown,
                    "413": _error("The body is too large."),
                    "503": _BUSY,
                },
            },
        },
        "/healthz": {
            "get": {
                "summary": "Liveness, with a round trip to the store",
                "responses": {
                    "200": _json("Serving.", {"$ref": "#/components/schemas/Health"}),
                    "503": _BUSY,
                },
            }
        },
        "/metrics": {
            "get": {
                "summary": "Prometheus text format",
                "security": [{"bearer": []}],
                "responses": {
                    "200": {
                        "description": "The metrics.",
                        "content": {"text/plain": {"schema": {"type": "string"}}},
                    },
                    "401": _error("No bearer token, or a wrong one."),
                    "503": _BUSY,
                },
            }
        },
        "/openapi.json": {
            "get": {
                "summary": "This document",
                "responses": {"200": _json("The OpenAPI document.", {"type": "object"})},
            }
        },
    }


def _schemas() -> dict[str, Any]:
    text = {"type": "string", "minLength": 1}
    strings = {"type": "array", "items": {"type": "string"}}
    return {
        "Error": {
            "type": "object",
            "required": ["error"],
            "properties": {"error": {"type": "string"}, "hint": {"type": "string"}},
        },
        "Contact": {
            "type": "object",
            "description": "Found by id, else by e-mail; the other fields are upserted.",
            "anyOf": [{"required": ["id"]}, {"required": ["email"]}],
            "properties": {
                "id": {"type": ["string", "integer"]},
                "email": {"type": "string", "format": "email"},
                "unsubscribed": {"type": "boolean"},
                "timezone": {"type": "string"},
                "tags": strings,
                "campaigns": strings,
            },
        },
        "Event": {
            "type": "object",
            "required": ["type", "contact"],
            "additionalProperties": False,
            "properties": {
                "type": text,
                "contact": {"$ref": "#/components/schemas/Contact"},
                "occurred_at": {"type": "string", "format": "date-time"},
                "id": {"type": ["string", "integer"], "description": "Makes delivery idempotent."},
                "data": {"type": "object"},
            },
        },
        "Events": {
            "oneOf": [
                {"$ref": "#/components/schemas/Event"},
                {
                    "type": "array",
                    "maxItems": 1000,
                    "items": {"$ref": "#/components/schemas/Event"},
                },
            ]
        },
        "IngestResult": {
            "type": "object",
            "required": ["received", "added", "duplicates", "rejected"],
            "properties": {
                "received": {"type": "integer"},
                "added": {"type": "integer"},
                "duplicates": {"type": "integer"},
                "rejected": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["index", "reason"],
                        "properties": {"index": {"type": "integer"}, "reason": {"type": "string"}},
                    },
                },
            },
        },
        "FormFields": {
            "type": "object",
            "required": ["email"],
            "properties": {
                "email": {"type": "string", "format": "email"},
                "_redirect": {"type": "string", "description": "A URL in [http] redirects."},
            },
        },
        "FormResult": {
            "type": "object",
            "required": ["form", "added"],
            "properties": {"form": {"type": "string"}, "added": {"type": "integer"}},
        },
        "Health": {
            "type": "object",
            "required": ["status"],
            "properties": {"status": {"const": "ok"}},
        },
    }
