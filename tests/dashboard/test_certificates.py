"""Completion certificates: issued for completed enrolments of the user's force, signed by the
server's key, and checked by code or by file; a flipped byte anywhere is caught."""

from __future__ import annotations

import json
import re
import stat
from dataclasses import replace
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from sync_server.dashboard import certificate_keys
from sync_server.dashboard.certificate_models import Certificate
from sync_server.dashboard.certificates import canonical
from sync_server.db import SessionFactory
from sync_server.models import AuditEntry, Enrolment
from sync_server.settings import Settings
from tests.dashboard.pages import table, text
from tests.dashboard.scheme import Scheme, signed_in

CODE = re.compile(r"/dashboard/certificates/([0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4})$")


def issue(client: TestClient, csrf: str, enrolment_id: str) -> str:
    response = client.post(
        "/dashboard/certificates/issue", data={"csrf_token": csrf, "enrolment_id": enrolment_id}
    )
    assert response.status_code == 303, response.text
    match = CODE.search(response.headers["location"])
    assert match is not None, response.headers["location"]
    return match.group(1)


def verdict(page: str) -> tuple[str, str]:
    heading = re.search(r'data-testid="verdict">(.*?)<', page, re.S)
    message = re.search(r'data-testid="verdict-message">(.*?)</p>', page, re.S)
    assert heading is not None, page
    assert message is not None, page
    return text(heading.group(1)), text(message.group(1))


def check_file(client: TestClient, csrf: str, document: bytes) -> str:
    response = client.post(
        "/dashboard/certificates/verify",
        data={"csrf_token": csrf},
        files={"document": ("certificate.pdf", document, "application/pdf")},
    )
    assert response.status_code == 200, response.text
    return response.text


def flipped(data: bytes, at: int) -> bytes:
    return data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1 :]


@pytest.fixture
def north(client: TestClient, scheme: Scheme) -> str:
    return signed_in(client, "north.officer")


def test_the_list_holds_the_forces_completed_enrolments(client: TestClient, scheme: Scheme) -> None:
    signed_in(client, "north.officer")
    rows = table(client.get("/dashboard/certificates").text, "completed")
    assert [(r[0], r[5]) for r in rows] == [("Alice", "Issue certificate")]

    signed_in(client, "south.officer")
    rows = table(client.get("/dashboard/certificates").text, "completed")
    assert rows == [["No enrolment has been completed yet."]]


def test_a_certificate_signs_the_servers_facts_and_its_pdf(
    client: TestClient,
    scheme: Scheme,
    north: str,
    sessions: SessionFactory,
    settings: Settings,
) -> None:
    code = issue(client, north, scheme.finished.enrolment_id)
    pdf = client.get(f"/dashboard/certificates/{code}/pdf")

    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert f'filename="certificate-{code}.pdf"' in pdf.headers["content-disposition"]
    assert pdf.content.startswith(b"%PDF-")
    assert code.encode() in pdf.content
    with sessions() as s:
        stored = s.scalars(select(Certificate)).one()
        enrolment = s.get(Enrolment, scheme.finished.enrolment_id)
    assert enrolment is not None
    assert enrolment.completed_at is not None
    key = certificate_keys.load_or_create(settings)
    assert key.verify(stored.record.encode(), stored.signature)
    record = json.loads(stored.record)
    assert record["participant"] == {
        "first_name": "Alice",
        "reference": f"REF/{scheme.finished.access_code}",
    }
    assert record["programme"]["id"] == "alcohol-and-you"
    assert record["programme"]["version"] == 1
    assert record["force"] == {"id": "north", "name": "North Constabulary"}
    assert record["completed_at"] == enrolment.completed_at.isoformat().replace("+00:00", "Z")
    assert record["document_sha256"] == stored.document_sha256
    assert stored.document == pdf.content
    key_file = certificate_keys.key_path(settings)
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600


def test_issuing_again_gives_the_same_certificate(
    client: TestClient, scheme: Scheme, north: str
) -> None:
    first = issue(client, north, scheme.finished.enrolment_id)
    again = issue(client, north, scheme.finished.enrolment_id)

    assert again == first
    rows = table(client.get("/dashboard/certificates").text, "completed")
    assert rows[0][5] == first


@pytest.mark.parametrize("who", ["started", "southern"])
def test_only_a_completed_enrolment_of_ones_own_force_gets_one(
    client: TestClient, scheme: Scheme, north: str, who: str
) -> None:
    person = getattr(scheme, who)
    response = client.post(
        "/dashboard/certificates/issue",
        data={"csrf_token": north, "enrolment_id": person.enrolment_id},
    )
    assert response.status_code == 404


def test_issuing_needs_the_forms_token(client: TestClient, scheme: Scheme, north: str) -> None:
    response = client.post(
        "/dashboard/certificates/issue",
        data={"csrf_token": "forged", "enrolment_id": scheme.finished.enrolment_id},
    )
    assert response.status_code == 403
    assert "Issue certificate" in client.get("/dashboard/certificates").text


@pytest.mark.parametrize("typed", ["{code}", "{lower}", "{bare}"])
def test_a_code_check_shows_the_signed_facts(
    client: TestClient, scheme: Scheme, north: str, typed: str
) -> None:
    code = issue(client, north, scheme.finished.enrolment_id)
    entered = typed.format(code=code, lower=code.lower(), bare=code.replace("-", " "))

    page = client.get("/dashboard/certificates/verify", params={"code": entered}).text

    assert verdict(page)[0] == "Genuine"
    facts = text(page.split('data-testid="signed-facts"', 1)[1].split("</dl>", 1)[0])
    assert code in facts
    assert "Alice" in facts
    assert f"REF/{scheme.finished.access_code}" in facts
    assert "North Constabulary" in facts


def test_an_unknown_or_malformed_code_is_not_genuine(
    client: TestClient, scheme: Scheme, north: str
) -> None:
    code = issue(client, north, scheme.finished.enrolment_id)
    other = ("1" if code[0] != "1" else "2") + code[1:]

    unknown = client.get("/dashboard/certificates/verify", params={"code": other})
    malformed = client.get("/dashboard/certificates/verify", params={"code": "not-a-code"})

    assert verdict(unknown.text)[0] == "Not genuine"
    assert "Alice" not in unknown.text
    assert malformed.status_code == 400
    assert "A verification code has 12 letters and digits" in malformed.text


def test_the_issued_file_checks_as_genuine_and_unaltered(
    client: TestClient, scheme: Scheme, north: str
) -> None:
    code = issue(client, north, scheme.finished.enrolment_id)
    document = client.get(f"/dashboard/certificates/{code}/pdf").content

    heading, message = verdict(check_file(client, north, document))

    assert heading == "Genuine"
    assert message.startswith(f"Genuine and unaltered: this file is exactly certificate {code}")


@pytest.mark.parametrize("where", [0.3, 0.5, 0.7, 0.95])
def test_a_file_with_one_flipped_byte_is_not_genuine(
    client: TestClient, scheme: Scheme, north: str, where: float
) -> None:
    code = issue(client, north, scheme.finished.enrolment_id)
    document = client.get(f"/dashboard/certificates/{code}/pdf").content
    at = int(len(document) * where)
    marker = document.index(code.encode())
    if marker <= at < marker + len(code):
        at = marker - 1  # this test keeps the code readable; the next one does not

    heading, message = verdict(check_file(client, north, flipped(document, at)))

    assert heading == "Not genuine"
    assert f"claims to be certificate {code} but has been altered" in message


def test_a_file_whose_code_was_altered_is_not_one_of_ours(
    client: TestClient, scheme: Scheme, north: str
) -> None:
    code = issue(client, north, scheme.finished.enrolment_id)
    document = client.get(f"/dashboard/certificates/{code}/pdf").content

    page = check_file(client, north, flipped(document, document.index(code.encode()) + 5))

    assert verdict(page) == (
        "Not genuine",
        "Not genuine: this file is not a certificate issued to your force by this server.",
    )
    assert "Alice" not in page


def test_a_file_that_is_no_pdf_is_refused_with_a_message(
    client: TestClient, scheme: Scheme, north: str
) -> None:
    response = client.post(
        "/dashboard/certificates/verify",
        data={"csrf_token": north},
        files={"document": ("notes.txt", b"hello " * 20_000, "text/plain")},
    )
    assert response.status_code == 400
    assert "That file is not a certificate" in response.text


def test_an_oversized_file_is_refused_before_it_is_read(
    client: TestClient, scheme: Scheme, north: str
) -> None:
    response = client.post(
        "/dashboard/certificates/verify",
        data={"csrf_token": north},
        files={"document": ("big.pdf", b"%PDF-" + b"0" * (600 * 1024), "application/pdf")},
    )
    assert response.status_code == 413


@pytest.mark.parametrize("column", ["record", "signature"])
def test_a_flipped_byte_in_the_stored_record_is_caught(
    client: TestClient, scheme: Scheme, north: str, sessions: SessionFactory, column: str
) -> None:
    code = issue(client, north, scheme.finished.enrolment_id)
    with sessions.begin() as s:
        stored = s.scalars(select(Certificate)).one()
        if column == "record":
            value = stored.record.replace('"Alice"', '"Alicf"')
        else:
            value = ("B" if stored.signature[0] != "B" else "C") + stored.signature[1:]
        s.execute(update(Certificate).values({column: value}))

    page = client.get("/dashboard/certificates/verify", params={"code": code}).text
    shown = client.get(f"/dashboard/certificates/{code}").text

    assert verdict(page)[0] == "Not genuine"
    assert "does not match the server's signature" in verdict(page)[1]
    assert "Alicf" not in page
    assert "Alicf" not in shown
    assert "does not match the server&#39;s signature" in shown


def test_a_record_re_signed_by_another_key_is_not_genuine(
    client: TestClient,
    scheme: Scheme,
    north: str,
    sessions: SessionFactory,
    settings: Settings,
    tmp_path: Path,
) -> None:
    code = issue(client, north, scheme.finished.enrolment_id)
    forger = certificate_keys.load_or_create(replace(settings, data_dir=tmp_path / "forger"))
    with sessions.begin() as s:
        stored = s.scalars(select(Certificate)).one()
        record = json.loads(stored.record)
        record["participant"]["first_name"] = "Mallory"
        forged = canonical(record)
        s.execute(update(Certificate).values(record=forged, signature=forger.sign(forged.encode())))

    page = client.get("/dashboard/certificates/verify", params={"code": code}).text

    assert verdict(page)[0] == "Not genuine"
    assert "Mallory" not in page


def test_another_forces_certificate_stays_hidden(
    client: TestClient, scheme: Scheme, north: str
) -> None:
    code = issue(client, north, scheme.finished.enrolment_id)
    document = client.get(f"/dashboard/certificates/{code}/pdf").content
    south = signed_in(client, "south.officer")

    assert client.get(f"/dashboard/certificates/{code}").status_code == 404
    assert client.get(f"/dashboard/certificates/{code}/pdf").status_code == 404
    by_code = client.get("/dashboard/certificates/verify", params={"code": code}).text
    by_file = check_file(client, south, document)
    assert verdict(by_code)[0] == verdict(by_file)[0] == "Not genuine"
    assert "Alice" not in by_code + by_file

    signed_in(client, "scheme.admin")
    page = client.get("/dashboard/certificates/verify", params={"code": code}).text
    assert verdict(page)[0] == "Genuine"


def test_issuing_viewing_downloading_and_checking_are_audited(
    client: TestClient, scheme: Scheme, north: str, sessions: SessionFactory
) -> None:
    code = issue(client, north, scheme.finished.enrolment_id)
    client.get(f"/dashboard/certificates/{code}")
    document = client.get(f"/dashboard/certificates/{code}/pdf").content
    client.get("/dashboard/certificates/verify", params={"code": code})
    check_file(client, north, flipped(document, len(document) // 2))

    with sessions() as s:
        entries = s.execute(
            select(AuditEntry.action, AuditEntry.subject, AuditEntry.force_id, AuditEntry.details)
            .where(AuditEntry.actor == "north.officer", AuditEntry.action.like("certificate.%"))
            .order_by(AuditEntry.id)
        ).all()
    assert [(a, subject, force) for a, subject, force, _ in entries] == [
        ("certificate.issued", code, "north"),
        ("certificate.viewed", code, "north"),
        ("certificate.downloaded", code, "north"),
        ("certificate.checked", code, "north"),
        ("certificate.checked", code, "north"),
    ]
    assert [d.get("result") for *_, d in entries[3:]] == ["genuine", "not_genuine"]


def test_content_staff_have_no_completion_records(client: TestClient, scheme: Scheme) -> None:
    signed_in(client, "north.content")
    assert client.get("/dashboard/certificates").status_code == 403
    assert client.get("/dashboard/certificates/verify").status_code == 403
