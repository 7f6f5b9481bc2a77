"""Property-based tests of the HTTP API from its own OpenAPI schema (schemathesis), on the real Occitanie data.

Every operation of /openapi.json is called in process (ASGI) with the schema's examples, schemathesis's
boundary cases (coverage phase) and ``MAX_EXAMPLES`` generated cases, valid and invalid; each answer must
not be a server error and must conform to the schema: a documented status code, a documented media type,
a body matching the documented response schema, the documented headers. ``derandomize`` makes the cases
the same on every run, so a failure in CI reproduces locally; SCHEMATHESIS_MAX_EXAMPLES=300 runs a deeper search
(about 4 minutes). No operation is excluded: the parameters carry OpenAPI examples (a real commune, scheme,
layer, tile…), so besides the 404s and 422s of generated values every operation is also called with data it finds.
The cases and status codes per operation are written to artifacts/schemathesis-calls.json.
"""
from __future__ import annotations

import json
import os
from collections import Counter

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import checks
from schemathesis.specs.openapi import checks as openapi_checks

from service.app import create_app

MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", 25))
CHECKS = [checks.not_a_server_error, openapi_checks.status_code_conformance, openapi_checks.content_type_conformance,
          openapi_checks.response_schema_conformance, openapi_checks.response_headers_conformance]
CALLS: Counter[str] = Counter()
STATUSES: dict[str, Counter[int]] = {}


# The schema is the app's own (building the app reads no data: the model is loaded at start-up); the cases are
# sent to the session's app on the mirror (the `client` fixture), so the model is loaded once for every test.
schema = schemathesis.openapi.from_dict(create_app().openapi())


@pytest.fixture(scope="module", autouse=True)
def call_counts(artifacts):
    """How many cases each operation got, written to artifacts/schemathesis-calls.json."""
    yield
    summary = {"operations": len(CALLS), "calls": sum(CALLS.values()),
               "per_operation": {op: {"calls": n, "statuses": dict(sorted(STATUSES.get(op, {}).items()))} for op, n in sorted(CALLS.items())}}
    (artifacts / "schemathesis-calls.json").write_text(json.dumps(summary, indent=1))


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
def test_api_conforms_to_its_schema(case, client):
    CALLS[case.operation.label] += 1
    response = case.call_and_validate(checks=CHECKS, app=client.app)
    STATUSES.setdefault(case.operation.label, Counter())[response.status_code] += 1
