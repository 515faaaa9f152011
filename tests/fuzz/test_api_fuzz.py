"""Property-based fuzzing of every operation of the OpenAPI schema (issue 16), in-process.

schemathesis generates requests from ``/api/schema/`` and sends them straight to the WSGI
application (no server), anonymously and as a user and as staff (a real JWT from the accounts
services). Checks on every response: no 5xx (a documented 503 in the envelope, with
Retry-After, is an answer, not a crash), the status and body match the documented responses,
the content type is the documented one, and every 4xx/5xx is the JSON envelope. Bounded: a few
examples per operation (about 1,200 requests, about a minute on 2 cores).

Part of the default run (``make test``, so CI); ``pytest -m fuzz`` runs it alone. The figures
(requests per role and per status class, failures) are printed at the end of the session and
written to ``var/fuzz-summary.json`` (tests/fuzz/conftest.py). Error bodies and codes are
documented per operation by ``core.openapi.AutoSchema``.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, reject, settings
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from tests.fuzz.conftest import FAILURES, FIGURES

pytestmark = [pytest.mark.fuzz, pytest.mark.django_db]

MAX_EXAMPLES = 3


def _load_schema() -> schemathesis.BaseSchema:
    """The schema drf-spectacular serves at /api/schema/, generated in-process, bound to the
    WSGI application (requests go straight to it)."""
    import json

    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.renderers import OpenApiJsonRenderer

    from config.wsgi import application

    raw = SchemaGenerator().get_schema(request=None, public=True)
    from schemathesis.config import SchemathesisConfig

    # Only the fuzzing phase (bounded by MAX_EXAMPLES): the coverage phase enumerates every
    # boundary value of every parameter at collection time (minutes for this schema).
    config = SchemathesisConfig.from_dict(
        {
            "phases": {
                "coverage": {"enabled": False},
                "examples": {"enabled": False},
                "stateful": {"enabled": False},
            },
            "generation": {"max-examples": MAX_EXAMPLES},
        }
    )
    loaded = schemathesis.openapi.from_dict(
        json.loads(OpenApiJsonRenderer().render(raw)), config=config
    )
    loaded.app = application
    return loaded


schema = _load_schema()


def _headers(role: str, django_user_model) -> dict[str, str]:  # type: ignore[no-untyped-def]
    if role == "anonymous":
        return {}
    from accounts.services import token_pair_issue

    user = django_user_model.objects.create_user(
        email=f"fuzz-{role}@example.com",
        password=None,  # no hashing: the token is all the fuzzer needs
        is_staff=role == "staff",
    )
    return {"Authorization": f"Bearer {token_pair_issue(user=user).access}"}


def _envelope_problem(response) -> str | None:  # type: ignore[no-untyped-def]
    if response.status_code < 400:
        return None
    try:
        body = response.json()
    except ValueError:
        return "error response is not JSON"
    if not isinstance(body, dict) or body.get("status") != response.status_code:
        return "error response is not the envelope"
    if not body.get("errors") or not body.get("request_id"):
        return "envelope without errors or request_id"
    return None


_SETTINGS = settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)


@schema.parametrize()
@_SETTINGS
def test_fuzz_anonymous(case, django_user_model, settings):  # type: ignore[no-untyped-def]
    _run(case, "anonymous", {}, settings)


@schema.parametrize()
@_SETTINGS
def test_fuzz_as_a_user(case, django_user_model, settings):  # type: ignore[no-untyped-def]
    _run(case, "user", _cached_headers("user", django_user_model), settings)


@schema.parametrize()
@_SETTINGS
def test_fuzz_as_staff(case, django_user_model, settings):  # type: ignore[no-untyped-def]
    _run(case, "staff", _cached_headers("staff", django_user_model), settings)


_HEADERS: dict[str, dict[str, str]] = {}


def _cached_headers(role: str, django_user_model) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """One user per role per test (the database is rolled back between tests)."""
    from accounts.models import User

    if role not in _HEADERS or not User.objects.filter(email=f"fuzz-{role}@example.com").exists():
        _HEADERS[role] = _headers(role, django_user_model)
    return _HEADERS[role]


def _run(case, role: str, headers: dict[str, str], settings) -> None:  # type: ignore[no-untyped-def]
    # Operator endpoints answer the fuzzer's token like Prometheus' (403 is covered elsewhere).
    settings.OPS_TOKEN = "fuzz-ops-token-0123456789abcdef0123456789"
    if case.path in ("/health/detailed",):
        headers = {**headers, "Authorization": f"Bearer {settings.OPS_TOKEN}"}
    # Excluded: a non-object multipart body (a negative example such as a bare number).
    # schemathesis' WSGI transport cannot send one (werkzeug's EnvironBuilder needs a mapping
    # and raises AttributeError in the test, before any request); the same bodies still go
    # out as JSON and as form data.
    if case.media_type == "multipart/form-data" and not isinstance(case.body, dict):
        reject()
    # The in-process WSGI transport does not decompress: ask for identity (gzip has its own
    # tests in tests/test_compression.py), else every large JSON body reads as binary.
    headers = {**headers, "Accept-Encoding": "identity"}
    response = case.call(headers=headers)
    FIGURES["requests"] += 1
    FIGURES[f"requests_{role}"] += 1
    FIGURES[f"status_{response.status_code // 100}xx"] += 1
    label = f"{role} {case.method} {case.path} -> {response.status_code}"
    documented = case.operation.definition.raw.get("responses", {})
    checks = [response_schema_conformance, content_type_conformance]
    # schemathesis' Response keeps header names lower-cased.
    header_names = {name.lower() for name in response.headers}
    retryable_503 = (
        response.status_code == 503 and "503" in documented and "retry-after" in header_names
    )
    if not retryable_503:
        checks.append(not_a_server_error)
    try:
        case.validate_response(response, checks=checks, headers=headers)
        problem = _envelope_problem(response)
        assert problem is None, problem
    except FailureGroup as group:
        # schemathesis raises a BaseExceptionGroup (not an Exception): one entry per check.
        for failure in group.exceptions:
            FAILURES.append(f"{label}: {_first_line(failure)}")
        raise
    except AssertionError as exc:
        FAILURES.append(f"{label}: {_first_line(exc)}")
        raise
    except Exception as exc:
        FAILURES.append(f"{label}: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}")
        raise


def _first_line(exc: BaseException) -> str:
    title = getattr(exc, "title", None)
    lines = [line.strip() for line in str(getattr(exc, "message", exc)).splitlines()]
    first = next((line for line in lines if line), "")
    text = f"{title}: {first}" if title else first or type(exc).__name__
    return text[:240]
