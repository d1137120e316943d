"""The API's edges: sign-in throttling against password guessing, security headers everywhere, and
hostile path parameters on every route."""

import pytest
from django.urls import get_resolver
from django.urls.converters import IntConverter, UUIDConverter
from rest_framework.test import APIClient

from audit.models import AuditAction, AuditEvent
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

SIGN_IN = "/api/auth/token/"


def sign_in(username: str, password: str, address: str = "192.0.2.10"):
    return APIClient().post(SIGN_IN, {"username": username, "password": password}, REMOTE_ADDR=address)


def test_repeated_wrong_passwords_for_one_user_name_are_throttled_with_retry_after_and_audited(
    clinician, settings
):
    settings.CXR_SIGN_IN_FAILURES_PER_USERNAME = "3/min"
    for attempt in range(3):
        # From different addresses: the per-address limit must not be what stops them.
        assert sign_in(clinician.username, "wrong", f"192.0.2.{attempt}").status_code == 401
    throttled = sign_in(clinician.username, PASSWORD, "192.0.2.99")
    assert throttled.status_code == 429
    assert 0 < int(throttled["Retry-After"]) <= 60
    assert set(throttled.json()) == {"message", "extra"}
    last = AuditEvent.objects.filter(action=AuditAction.SIGN_IN_FAILED).order_by("-id").first()
    assert last.actor_username == clinician.username
    assert last.detail["reason"].startswith("throttled")
    # The user name is counted whatever its case or surrounding spaces.
    assert sign_in(f" {clinician.username.upper()} ", PASSWORD, "192.0.2.98").status_code == 429


def test_one_address_guessing_across_user_names_is_throttled(clinician, settings):
    settings.CXR_SIGN_IN_FAILURES_PER_ADDRESS = "4/min"
    for index in range(4):
        assert sign_in(f"someone{index}", "wrong").status_code == 401
    assert sign_in(clinician.username, PASSWORD).status_code == 429
    # Another address is not held back by this one's failures.
    assert sign_in(clinician.username, PASSWORD, "198.51.100.7").status_code == 200


def test_successful_sign_ins_are_never_throttled(clinician, settings):
    settings.CXR_SIGN_IN_FAILURES_PER_USERNAME = "2/min"
    settings.CXR_SIGN_IN_FAILURES_PER_ADDRESS = "2/min"
    for _ in range(5):
        assert sign_in(clinician.username, PASSWORD).status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/studies/123",
        "/api/health/",
        "/api/studies/",
        "/api/no-such-thing/",
        "/api/schema/",
        "/admin/login/",
    ],
)
def test_every_response_carries_the_security_headers(path):
    response = APIClient().get(path)
    policy = response["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "script-src 'self';" in policy
    assert "frame-ancestors 'none'" in policy and "'unsafe-eval'" not in policy
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_the_web_app_gets_no_inline_style_or_script():
    policy = APIClient().get("/")["Content-Security-Policy"]
    assert "'unsafe-inline'" not in policy


def test_api_docs_page_loads_its_script_from_a_url_not_inline():
    page = APIClient().get("/api/docs/").content.decode()
    assert "<script>" not in page and "?script" in page


def test_schema_documents_each_operations_error_statuses_in_the_error_shape():
    schema = APIClient().get("/api/schema/?format=json").json()
    operations = {
        (method.upper(), path): operation
        for path, item in schema["paths"].items()
        for method, operation in item.items()
    }
    expected = {
        ("POST", "/api/studies/"): {"400", "401", "413", "415", "422", "429", "503"},
        ("POST", "/api/auth/token/"): {"400", "401", "415", "429", "503"},
        ("GET", "/api/studies/{study_id}/"): {"401", "404", "503"},
        ("GET", "/api/users/"): {"400", "401", "403", "404", "503"},
        ("PATCH", "/api/users/{id}/"): {"400", "401", "403", "404", "415", "503"},
        ("GET", "/api/model/agreement/"): {"401", "403", "503"},
    }
    for key, statuses in expected.items():
        assert statuses <= set(operations[key]["responses"]), key
    for key, operation in operations.items():
        for status, response in operation["responses"].items():
            if status.startswith(("4", "5")) and key != ("GET", "/api/health/"):
                schema_ref = response["content"]["application/json"]["schema"]["$ref"]
                assert schema_ref == "#/components/schemas/Error", (key, status)
    assert schema["components"]["schemas"]["Error"]["required"] == ["extra", "message"]


@pytest.mark.urls("tests.raising_urls")
def test_errors_outside_the_api_views_answer_json_never_an_html_page(client):
    client.raise_request_exception = False
    gone = client.get("/failing/database/")
    assert (gone.status_code, gone["Content-Type"]) == (503, "application/json")
    assert gone.json()["extra"] == {"dependency": "database"} and int(gone["Retry-After"]) > 0
    bug = client.get("/failing/bug/")
    assert (bug.status_code, bug["Content-Type"]) == (500, "application/json")
    assert set(bug.json()) == {"message", "extra"}


@pytest.mark.parametrize("path", ["/api/no-such-thing/", "/api/studies/a%0Ab/images/-1/heatmaps/x/"])
def test_a_path_that_matches_no_endpoint_answers_json_404_even_with_an_encoded_line_break(client, path):
    response = client.get(path)
    assert response.status_code == 404 and response["Content-Type"] == "application/json"
    assert response.json()["message"].startswith("No API endpoint at /api/")


def api_routes_with_parameters() -> list[tuple[str, list[str], dict]]:
    """Every route of the API's URLconf that takes path parameters: its format string, its
    parameters and their converters, read from the resolver so that a new route is covered too."""
    routes: dict[str, tuple[list[str], dict]] = {}
    for _key, entries in get_resolver().reverse_dict.lists():
        for possibilities, _pattern, _defaults, converters in entries:
            for format_string, parameters in possibilities:
                if format_string.startswith("api/") and parameters:
                    routes[format_string] = (parameters, converters)
    return [(route, *routes[route]) for route in sorted(routes)]


def valid_value(converter: object, study_id: str) -> str:
    if isinstance(converter, UUIDConverter):
        return study_id
    if isinstance(converter, IntConverter):
        return "0"
    return "x"


def test_the_walk_finds_the_routes_with_parameters():
    routes = {route for route, _parameters, _converters in api_routes_with_parameters()}
    # Those the issue named, among every other route with a path parameter.
    assert "api/studies/%(study_id)s/heatmaps/%(label)s/" in routes
    assert "api/studies/%(study_id)s/findings/%(label)s/explanations/" in routes
    assert "api/studies/%(study_id)s/images/%(position)s/heatmaps/%(label)s/" in routes
    assert len(routes) >= 15


def test_a_path_parameter_with_a_control_character_answers_the_json_404_on_every_route(
    admin_user, client_for, analysed_study
):
    # An admin passes every permission check, and the study exists and is analysed (with an image
    # at position 0), so each hostile parameter reaches whatever the view does with it.
    client = client_for(admin_user)
    wrong = []
    for route, parameters, converters in api_routes_with_parameters():
        values = {name: valid_value(converters.get(name), str(analysed_study.id)) for name in parameters}
        for hostile in parameters:
            for character in ("%00", "%0A", "%1B", "%7F"):
                path = "/" + route % {**values, hostile: f"a{character}b"}
                for method in ("GET", "POST", "PUT", "PATCH", "DELETE"):
                    response = client.generic(method, path)
                    if (response.status_code, response["Content-Type"]) != (404, "application/json") or set(
                        response.json()
                    ) != {"message", "extra"}:
                        wrong.append((method, path, response.status_code))
    assert wrong == []
