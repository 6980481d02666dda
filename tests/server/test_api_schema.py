"""Schemathesis fuzzes every operation in /api/openapi.json, signed by a real device and unsigned.

The schemathesis pytest plugin (`from_fixture(...).parametrize()`) does not run on this
pytest, so each test drives one operation's Hypothesis strategy itself; that also lets a
test assert what its examples reached.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import pytest
import requests
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from sync_server import protocol
from sync_server.app import create_app
from sync_server.db import make_engine, session_factory
from sync_server.settings import Settings
from sync_server.signatures import sign_request
from tests.support import databases as dbs
from tests.support.device import TestDevice
from tests.support.journeys import whole_programme
from tests.support.world import PROGRAMME_ID, World, make_world

EXAMPLES_PER_RUN: Final = 30
SUMMARY_PATH: Final = Path(__file__).resolve().parents[2] / "build" / "schemathesis-summary.txt"
PUSH: Final = "POST /api/v1/sync/push"
PULL: Final = "GET /api/v1/sync/pull"
# Every device endpoint but enrolment needs an RFC 9421 signature.
SIGNED: Final = (
    PUSH,
    PULL,
    "GET /api/v1/packs/{pack_id}/{version}",
    "HEAD /api/v1/packs/{pack_id}/{version}",
)
UNSIGNED: Final = ("POST /api/v1/devices/enrol", "GET /health")
MODES: Final = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
CHECKS: Final = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
]
FUZZ_SETTINGS: Final = settings(
    max_examples=EXAMPLES_PER_RUN,
    deadline=None,
    # Big generated push batches are slow to build; that is not the API's fault.
    suppress_health_check=[HealthCheck.too_slow],
)


class DeviceSignature(requests.auth.AuthBase):
    """Signs the request as prepared, so the signature covers the exact URL and body bytes."""

    def __init__(self, device: TestDevice) -> None:
        self.device = device

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        assert r.method is not None
        assert r.url is not None
        body = r.body or b""
        sign_request(
            method=r.method,
            url=r.url,
            headers=r.headers,
            body=body.encode() if isinstance(body, str) else body,
            key_id=self.device.device_id,
            private_key=self.device.key,
        )
        return r


@dataclass
class FuzzLog:
    """Status codes seen per run, and how many runs failed, for the summary."""

    statuses: dict[str, Counter[str]] = field(default_factory=dict)
    failures: int = 0

    def summary(self) -> str:
        operations = {run.split("  ")[0] for run in self.statuses}
        examples = sum(sum(c.values()) for c in self.statuses.values())
        lines = [
            f"schemathesis: {len(operations)} operations, {len(self.statuses)} runs,"
            f" {examples} examples, {self.failures} failures"
        ]
        for run, counts in sorted(self.statuses.items()):
            seen = " ".join(f"{status}x{n}" for status, n in sorted(counts.items()))
            lines.append(f"  {run:62} {sum(counts.values()):3} examples: {seen}")
        return "\n".join(lines)


@dataclass
class Api:
    app: FastAPI
    schema: schemathesis.BaseSchema
    world: World
    device: TestDevice


@pytest.fixture(scope="module")
def api(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    """One SQLite server with the sample world and an enrolled device that has done some work."""
    tmp = tmp_path_factory.mktemp("api-schema")
    url = dbs.SqliteDatabases(template=sqlite_template, root=tmp / "databases").migrated()
    config = Settings(database_url=url, data_dir=tmp / "data")
    engine = make_engine(url)
    try:
        world = make_world(config, session_factory(engine), tmp)
        app = create_app(config, engine=engine)
        with TestClient(app) as client:
            device = TestDevice(client, "http://testserver", name="Fuzzed kiosk")
            # Enrol before the fuzzer spends the enrolment rate limit of the test client.
            device.enrol(world.code("north-custody"))
            _do_some_work(device, world)
        yield Api(app=app, schema=_load_schema(app), world=world, device=device)
    finally:
        engine.dispose()


def _do_some_work(device: TestDevice, world: World) -> None:
    # So that pull pages hold participants, enrolments and progress, not only the catalogue.
    for first_name in ("Sam", "Alex"):
        reg = device.register(first_name=first_name, programme_id=PROGRAMME_ID)
        assert reg.enrolment_id is not None
        progress = [
            device.event(
                kind,
                participant_id=reg.participant_id,
                enrolment_id=reg.enrolment_id,
                step_id=step_id,
                data=data,
            )
            for step_id, (kind, data) in whole_programme(world.programme)[:3]
        ]
        assert {r.status for r in device.push_ok(reg.events + progress)} == {"accepted"}


def _load_schema(app: FastAPI) -> schemathesis.BaseSchema:
    loaded = schemathesis.openapi.from_asgi("/api/openapi.json", app)

    @loaded.hook
    def flatmap_path_parameters(
        context: schemathesis.HookContext, path_parameters: dict[str, Any] | None
    ) -> st.SearchStrategy[dict[str, Any] | None]:
        # Random pack ids all answer 404; now and then ask for the pack that exists.
        if path_parameters is None or set(path_parameters) != {"pack_id", "version"}:
            return st.just(path_parameters)
        return st.sampled_from([path_parameters, {"pack_id": PROGRAMME_ID, "version": 1}])

    return loaded


@pytest.fixture(scope="module")
def fuzz_log(request: pytest.FixtureRequest) -> Iterator[FuzzLog]:
    """Collects every run; writes the summary to build/ and the terminal at the end."""
    log = FuzzLog()
    yield log
    if not log.statuses:
        return
    SUMMARY_PATH.parent.mkdir(exist_ok=True)
    SUMMARY_PATH.write_text(log.summary() + "\n", encoding="utf-8")
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line("")
        reporter.write_line(log.summary())


def fuzz(
    api: Api,
    log: FuzzLog,
    label: str,
    mode: GenerationMode,
    *,
    signed: bool,
    also: Callable[[schemathesis.Case[Any], schemathesis.Response], None] | None = None,
) -> Counter[str]:
    """Run the checks on EXAMPLES_PER_RUN generated cases; answer the statuses seen."""
    operation = api.schema.find_operation_by_label(label)
    assert operation is not None, f"{label} is not in the schema"
    run_name = f"{label}  {mode.value}, {'signed' if signed else 'unsigned'}"
    statuses = log.statuses.setdefault(run_name, Counter())
    auth = DeviceSignature(api.device) if signed else None

    @FUZZ_SETTINGS
    @given(case=operation.as_strategy(mode, hooks=api.schema.hooks))
    def run(case: schemathesis.Case[Any]) -> None:
        response = case.call(auth=auth)
        case.validate_response(response, checks=CHECKS, transport_kwargs={"auth": auth})
        statuses[str(response.status_code)] += 1
        if also is not None:
            also(case, response)

    try:
        run()
    except BaseException:
        log.failures += 1
        raise
    return statuses


def test_every_operation_is_fuzzed(api: Api) -> None:
    in_schema: set[str] = set()
    for result in api.schema.get_all_operations():
        assert isinstance(result, Ok), result
        in_schema.add(result.ok().label)
    assert in_schema == set(SIGNED + UNSIGNED)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("label", SIGNED)
def test_signed_requests_answer_as_documented(
    api: Api, fuzz_log: FuzzLog, label: str, mode: GenerationMode
) -> None:
    statuses = fuzz(api, fuzz_log, label, mode, signed=True)
    # The signed examples got past authentication to the handlers.
    assert "401" not in statuses
    if mode is GenerationMode.POSITIVE and label in (PUSH, PULL):
        assert statuses["200"] > 0


@pytest.mark.parametrize(
    ("label", "mode"),
    [
        ("POST /api/v1/devices/enrol", GenerationMode.POSITIVE),
        ("POST /api/v1/devices/enrol", GenerationMode.NEGATIVE),
        # /health takes no input at all, so there is nothing to make invalid.
        ("GET /health", GenerationMode.POSITIVE),
    ],
)
def test_open_endpoints_answer_as_documented(
    api: Api, fuzz_log: FuzzLog, label: str, mode: GenerationMode
) -> None:
    fuzz(api, fuzz_log, label, mode, signed=False)


def _refused_unsigned(case: schemathesis.Case[Any], response: schemathesis.Response) -> None:
    if isinstance(case.body, bytes) and response.status_code == 422:
        # FastAPI parses the JSON body before any dependency runs: bytes that are not JSON
        # are refused before the signature is looked at (validated against the schema above).
        return
    assert response.status_code == 401, response.text
    assert response.headers.get("www-authenticate") == ["Signature"]
    if case.method != "HEAD":
        body = protocol.ErrorBody.model_validate_json(response.content)
        assert (body.error, body.wipe) == ("signature_missing", False)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("label", SIGNED)
def test_unsigned_requests_are_refused_with_an_error_body(
    api: Api, fuzz_log: FuzzLog, label: str, mode: GenerationMode
) -> None:
    fuzz(api, fuzz_log, label, mode, signed=False, also=_refused_unsigned)


# --- server bugs the fuzzing found, kept as regression tests -------------------------------


def test_a_body_that_is_not_utf8_is_refused_as_documented(api: Api) -> None:
    with TestClient(api.app) as client:
        response = client.post(
            "/api/v1/devices/enrol",
            content=b"\x88\xf2~",
            headers={"content-type": "application/json"},
        )
    assert response.status_code == 422, response.text


def test_a_signed_request_to_an_escaped_path_is_verified(api: Api) -> None:
    with TestClient(api.app) as client:
        device = TestDevice(client, "http://testserver", key=api.device.key)
        device.enrolled = api.device.enrolled
        response = device.send(device.signed("GET", "/api/v1/packs/no%20such%20pack/1"))
    # The signature holds, so the answer is about the path: 422, not 401 signature_invalid.
    assert response.status_code == 422, response.text
