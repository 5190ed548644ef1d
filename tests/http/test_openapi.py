"""Property-based API tests: schemathesis generates requests from the published
``/openapi.json`` and sends them over loopback; no answer may be a server error,
and every answer must be one the document describes (status, content type, schema).

Bounded: a few dozen examples per operation, a few seconds in all.
"""

from __future__ import annotations

from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.daemon.conftest import Flowctl
from tests.http.conftest import Web

EXAMPLES = 25
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


def test_openapi_document_is_published(web: Web) -> None:
    reply = web.request("GET", "/openapi.json")
    assert reply.status == 200
    doc = reply.json()
    assert doc["openapi"].startswith("3.")
    assert doc["servers"] == [{"url": web.base}]
    assert {"/v1/events", "/v1/forms/{form}", "/t/o/{token}", "/t/c/{token}", "/u/{token}"} <= set(
        doc["paths"]
    )


def explore(operation: Any, base: str, headers: dict[str, str]) -> None:
    """Send :data:`EXAMPLES` requests generated for ``operation`` and check each answer."""

    @given(case=operation.as_strategy())
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    def check(case: Any) -> None:
        response = case.call(base_url=base, headers=headers, timeout=30)
        case.validate_response(response, checks=CHECKS, headers=headers)

    check()


def test_generated_requests_find_no_server_error(web: Web, flowctl: Flowctl) -> None:
    schema = schemathesis.openapi.from_url(f"{web.base}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]  # type: ignore[union-attr]
    assert len(operations) == 8
    for operation in operations:
        for headers in (web.auth, {}):
            explore(operation, web.base, headers)
