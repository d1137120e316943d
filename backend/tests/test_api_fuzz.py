"""Fuzzing the API from its own OpenAPI schema, with valid and invalid data: no request, however
odd, gets a server error, and every answer is one the schema documents (its status, content type and
body), errors included.

Bounded: a fixed number of examples per operation and mode, derandomised so CI runs are repeatable.
"""

import json
from datetime import timedelta

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from config.wsgi import application
from tests.factories import AdminFactory

# STOW-RS bodies are multipart/related: fuzzed values go out as raw bytes, which it must refuse cleanly.
schemathesis.serializer.alias("multipart/related", "application/octet-stream")
# The live event stream stays open until its token expires: it is fuzzed on its own below, with a
# token that expires at once.
EVENTS_PATH = "/api/studies/events/"
schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application).exclude(path=EVENTS_PATH)
schema.config.generation.update(modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
events_schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application).include(
    path=EVENTS_PATH
)
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@schemathesis.deserializer("text/event-stream")
def server_sent_events(ctx: schemathesis.DeserializationContext, response: schemathesis.Response) -> list:
    """The stream's events as its schema describes each, {event, data} with the JSON of the data
    line parsed: OpenAPI 3.0 cannot say that a string holds JSON, so the schema gives it as the
    object it is (schemathesis' own reading keeps it a string). Comments (heartbeats) are not events."""
    events = []
    for block in response.content.decode().split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if line and not line.startswith(":"))
        if fields:
            events.append({"event": fields.get("event", "message"), "data": json.loads(fields["data"])})
    return events


@pytest.fixture
def admin_headers(db) -> dict[str, str]:
    # An admin reaches every operation, so the fuzzing goes past the permission checks.
    return {"Authorization": f"Bearer {RefreshToken.for_user(AdminFactory()).access_token}"}


@pytest.fixture(autouse=True)
def keep_test_connection():
    """Calling the WSGI app directly would close the test's database connection after each
    request; Django's own test client suspends that signal handler the same way."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.mark.django_db
@schema.parametrize()
@settings(
    max_examples=12,
    deadline=None,
    derandomize=True,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.function_scoped_fixture,
    ],
)
def test_no_api_operation_answers_a_server_error_or_anything_its_schema_does_not_document(
    case, admin_headers
):
    case.call_and_validate(headers=admin_headers, checks=CHECKS)


@pytest.mark.django_db(transaction=True)
@events_schema.parametrize()
@settings(max_examples=4, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_the_event_stream_answers_only_what_its_schema_documents(case):
    # Served through WSGI, the stream is read to its end: its token's expiry, a second away.
    token = AccessToken.for_user(AdminFactory())
    token.set_exp(lifetime=timedelta(seconds=1))
    response = case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, checks=CHECKS)
    if response.status_code == 200:
        assert server_sent_events(None, response)[0] == {"event": "ready", "data": {}}
