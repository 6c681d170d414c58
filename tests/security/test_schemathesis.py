"""Every operation of every service holds to its own OpenAPI document (schemathesis).

Each service's `/openapi.json` is loaded from the in-process app, and every
operation is called with generated input, valid and invalid, as an admin. Each
response must: not be a 5xx; use a status code the document declares; carry
the declared content type, headers and body schema; and, for any error, be
SPEC §4's JSON `{"error": {"code", "message", "fields"}}`.

Failures are collected per service (the first example of each distinct
failure per operation) and reported together, so one run shows them all.
Generation is bounded and derandomized: the same examples every run.
"""

import json
from collections import Counter
from dataclasses import dataclass

import hypothesis
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from shared.settings import SERVICES
from tests.conftest import auth

# Examples per operation and generation mode: enough to reach each operation's
# validation, lookup and success paths; small enough for well under a minute.
EXAMPLES = {GenerationMode.POSITIVE: 15, GenerationMode.NEGATIVE: 10}
ERROR_KEYS = {"code", "message", "fields"}


def error_shape(ctx, response, case):
    """SPEC §4: an error is JSON `{"error": {"code": str, "message": str, "fields": {...}}}`."""
    if response.status_code < 400:
        return None
    content_type = response.headers.get("content-type", [""])[0]
    assert content_type.split(";")[0].strip() == "application/json", (
        f"error {response.status_code} answered with Content-Type {content_type!r}, not application/json")
    try:
        body = json.loads(response.content)
    except ValueError:
        raise AssertionError(f"error {response.status_code} body is not JSON: {response.content[:200]!r}") from None
    assert isinstance(body, dict) and set(body) == {"error"}, (
        f"error {response.status_code} body is not {{\"error\": {{...}}}}: {body!r}"[:500])
    error = body["error"]
    assert isinstance(error, dict) and set(error) == ERROR_KEYS, (
        f"error {response.status_code} has keys {sorted(error) if isinstance(error, dict) else error!r},"
        f" not {sorted(ERROR_KEYS)}")
    assert isinstance(error["code"], str) and error["code"], f"error code is not a non-empty string: {error!r}"
    assert isinstance(error["message"], str) and error["message"], f"error message is empty: {error!r}"
    assert isinstance(error["fields"], dict), f"error fields is not an object: {error!r}"
    assert "Traceback" not in response.content.decode("utf-8", "replace"), "a traceback in the error body"
    return None


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    error_shape,
]

SETTINGS = hypothesis.settings(
    derandomize=True,  # the same examples every run
    database=None,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],  # no shrinking: report the first example as found
    suppress_health_check=list(HealthCheck),
    report_multiple_bugs=False,
)


@dataclass
class Finding:
    operation: str
    mode: str
    kind: str
    detail: str
    request: str
    status: int
    body: str

    def __str__(self) -> str:
        return (f"--- {self.operation} [{self.mode}] {self.kind}\n"
                f"    request:  {self.request}\n"
                f"    response: {self.status} {self.body}\n"
                f"    {self.detail.strip().replace(chr(10), chr(10) + '    ')}")


def describe(case, headers) -> str:
    curl = case.as_curl_command(headers={k: v for k, v in headers.items() if k != "Authorization"})
    return curl.replace("\n", " ")


def summary(failure) -> str:
    """The failure's message without the schema dump schemathesis appends."""
    message = getattr(failure, "message", "") or str(failure)
    return message.split("\n\nSchema:", 1)[0].split("\n\nValue:", 1)[0].strip()


def failures_of(exc: BaseException) -> list:
    if isinstance(exc, FailureGroup):
        return list(exc.exceptions)
    return [exc]


def exercise(operation, mode: GenerationMode, headers: dict, findings: dict) -> int:
    """Run one operation in one mode; record the first example of each distinct failure. Returns calls made."""
    calls = 0

    @hypothesis.settings(SETTINGS, max_examples=EXAMPLES[mode])
    @hypothesis.given(data=st.data())
    def run(data):
        nonlocal calls
        # The token is fixed, not generated: negative mode would otherwise drop or mangle it, and
        # every call here is meant to reach the operation itself (roles have their own tests).
        case = data.draw(operation.as_strategy(generation_mode=mode, headers=headers))
        calls += 1
        try:
            response = case.call(headers=headers)
        except Exception as exc:  # the app raised through the WSGI transport: as bad as a 500
            key = (operation.label, type(exc).__name__)
            findings.setdefault(key, Finding(operation.label, mode.value, "app raised " + type(exc).__name__,
                                             str(exc), describe(case, headers), 0, ""))
            return
        try:
            case.validate_response(response, checks=CHECKS, headers=headers)
        except (FailureGroup, Failure, AssertionError) as exc:
            for failure in failures_of(exc):
                title = getattr(failure, "title", type(failure).__name__)
                kind = f"{title} ({response.status_code})"
                key = (operation.label, kind)
                if key not in findings:
                    findings[key] = Finding(
                        operation.label, mode.value, kind, summary(failure),
                        describe(case, headers), response.status_code, response.content[:400].decode("utf-8", "replace"))

    try:
        run()
    except hypothesis.errors.Unsatisfiable:
        # Nothing in this operation can be made invalid in a way that still reaches it (e.g. its only
        # parameter is a path segment): no negative examples, which is not a defect of the API.
        if mode is not GenerationMode.NEGATIVE:
            raise
        print(f"{operation.label}: no negative examples can be generated")
    return calls


@pytest.mark.parametrize("service", SERVICES)
def test_every_operation_holds_to_the_openapi_document(station, service):
    app = station.apps[service]
    config = schemathesis.Config.from_dict({})
    schema = schemathesis.openapi.from_wsgi("/openapi.json", app, config=config)
    headers = auth("admin")
    findings: dict = {}
    operations, calls = [], 0
    for result in schema.get_all_operations():
        operation = result.ok()  # raises if the document has an operation schemathesis cannot read
        operations.append(operation.label)
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            calls += exercise(operation, mode, headers, findings)
    assert operations, f"{service}: the OpenAPI document lists no operations"
    kinds = Counter(f.kind for f in findings.values())
    summary_lines = "\n".join(f"  {count:3d} x {kind}" for kind, count in kinds.most_common())
    report = "\n".join(str(f) for f in findings.values())
    assert not findings, (f"{service}: {len(findings)} distinct failure(s) over {len(operations)} operations,"
                          f" {calls} calls:\n{summary_lines}\n{report}")
