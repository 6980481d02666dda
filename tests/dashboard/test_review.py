"""The review queue: work awaiting an officer in the user's force, oldest first; a verdict is
recorded once, audited, pulled by the participant's kiosks and read by the completion rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from content_packs import authoring
from content_packs.model import Event as RuleEvent
from content_packs.progress import ReviewState, progress
from sync_server import protocol
from sync_server.db import SessionFactory
from sync_server.models import AuditEntry, Change, ChangeKind, Event, Review, StaffUser
from sync_server.services import reviews
from tests.dashboard.pages import figure, table
from tests.dashboard.scheme import Person, Scheme, signed_in
from tests.support.device import TestDevice
from tests.support.world import SAMPLE, World

COMMENT = "Please say more about who was affected.\nTake your time."


def submission(sessions: SessionFactory, person: Person, step_id: str) -> str:
    """The id of the person's latest submission to a step."""
    with sessions() as s:
        found = s.scalars(
            select(Event.id)
            .where(Event.enrolment_id == person.enrolment_id, Event.step_id == step_id)
            .order_by(Event.occurred_at.desc())
        ).first()
    assert found is not None
    return found


def queue(client: TestClient) -> list[list[str]]:
    return table(client.get("/dashboard/review").text, "review-queue")


def decide(
    client: TestClient, csrf: str, submission_id: str, verdict: str, comment: str = ""
) -> tuple[int, str]:
    response = client.post(
        f"/dashboard/review/{submission_id}",
        data={"csrf_token": csrf, "verdict": verdict, "comment": comment},
    )
    return response.status_code, response.headers.get("location", response.text)


def resubmit(kiosk: TestDevice, person: Person, step_id: str, kind: str, words: int) -> str:
    text = "I have thought again. " + " ".join(f"change{i}" for i in range(words))
    event = kiosk.event(
        kind,
        participant_id=person.participant_id,
        enrolment_id=person.enrolment_id,
        step_id=step_id,
        data={"text": text},
        occurred_at=datetime.now(UTC),
    )
    assert [r.status for r in kiosk.push_ok([event])] == ["accepted"]
    return event.id


def review_state(sessions: SessionFactory, world: World, person: Person, step_id: str) -> str:
    """The step's review state as the server's rules compute it: stored events plus verdicts."""
    with sessions() as s:
        stored = [
            RuleEvent(
                id=e.id, type=e.type, step_id=e.step_id, occurred_at=e.occurred_at, data=e.data
            )
            for e in s.scalars(select(Event).where(Event.enrolment_id == person.enrolment_id))
        ]
        verdicts = reviews.rule_events(s, [person.enrolment_id])[person.enrolment_id]
    return progress(world.programme, stored + verdicts).step(step_id).review.value


def review_changes(kiosk: TestDevice) -> list[protocol.ReviewVerdict]:
    found = [protocol.change_data(c) for c in kiosk.pull_all() if c.kind == "review"]
    assert all(isinstance(v, protocol.ReviewVerdict) for v in found)
    return [v for v in found if isinstance(v, protocol.ReviewVerdict)]


@pytest.mark.usefixtures("scheme")
@pytest.mark.parametrize(
    ("username", "expected"),
    [
        (
            "north.officer",
            [("Alice", "Reflection: What happened"), ("Alice", "Letter: Your letter")],
        ),
        ("south.officer", []),
        ("north.content", None),
    ],
)
def test_the_queue_lists_the_forces_work_awaiting_review_oldest_first(
    client: TestClient, username: str, expected: list[tuple[str, str]] | None
) -> None:
    signed_in(client, username)
    response = client.get("/dashboard/review")

    if expected is None:
        assert response.status_code == 403
        return
    rows = [row for row in table(response.text, "review-queue") if len(row) > 1]
    assert [(row[1], row[3]) for row in rows] == expected
    assert all(row[2] == "Alcohol and you" for row in rows)
    assert figure(response.text, "result-count") == f"{len(expected)} waiting."


def test_returning_a_piece_reaches_the_kiosk_and_the_rules_and_a_new_version_queues_again(
    client: TestClient, scheme: Scheme, sessions: SessionFactory, world: World
) -> None:
    alice, kiosk = scheme.finished, scheme.north_kiosk
    reflection = submission(sessions, alice, "what-happened")
    csrf = signed_in(client, "north.officer")
    assert review_state(sessions, world, alice, "what-happened") == ReviewState.AWAITING

    page = client.get(f"/dashboard/review/{reflection}")
    answer = decide(client, csrf, reflection, "returned", COMMENT)

    assert page.status_code == 200
    assert "In my own words word0" in page.text
    assert answer == (303, "/dashboard/review?decided=returned")
    assert "Returned with your comment." in client.get(answer[1]).text
    assert [row[3] for row in queue(client)] == [f"Letter: {world.programme.step('letter').title}"]
    assert review_state(sessions, world, alice, "what-happened") == ReviewState.RETURNED
    [verdict] = review_changes(kiosk)
    assert (verdict.submission_id, verdict.participant_id, verdict.enrolment_id) == (
        reflection,
        alice.participant_id,
        alice.enrolment_id,
    )
    assert (verdict.verdict, verdict.comment, verdict.step_id) == (
        "returned",
        COMMENT,
        "what-happened",
    )
    # The kiosk reads the verdict into its own rules exactly as the server does.
    assert (
        verdict.rule_event().id
        == protocol.review_rule_event(
            submission_id=reflection,
            step_id="what-happened",
            verdict="returned",
            reviewed_at=verdict.reviewed_at,
        ).id
    )
    assert review_changes(scheme.south_kiosk) == []

    again = resubmit(kiosk, alice, "what-happened", "reflection.submitted", 45)
    rows = queue(client)
    assert [row[3].split(" resubmitted")[0] for row in rows][-1].startswith("Reflection:")
    assert "resubmitted after 1 return" in rows[-1][3]
    assert review_state(sessions, world, alice, "what-happened") == ReviewState.AWAITING

    assert decide(client, csrf, again, "accepted")[0] == 303
    assert review_state(sessions, world, alice, "what-happened") == ReviewState.ACCEPTED
    assert {(v.submission_id, v.verdict) for v in review_changes(kiosk)} == {
        (reflection, "returned"),
        (again, "accepted"),
    }


def test_each_verdict_is_audited_without_the_comment(
    client: TestClient, scheme: Scheme, sessions: SessionFactory
) -> None:
    letter = submission(sessions, scheme.finished, "letter")
    csrf = signed_in(client, "north.supervisor")
    client.get(f"/dashboard/review/{letter}")
    decide(client, csrf, letter, "returned", COMMENT)

    with sessions() as s:
        entries = s.scalars(
            select(AuditEntry)
            .where(AuditEntry.action.in_(["review.viewed", "review.returned"]))
            .order_by(AuditEntry.id)
        ).all()
        review_id = s.scalar(select(Review.id))
    assert [(e.action, e.actor, e.subject, e.force_id) for e in entries] == [
        ("review.viewed", "north.supervisor", scheme.finished.participant_id, "north"),
        ("review.returned", "north.supervisor", scheme.finished.participant_id, "north"),
    ]
    assert entries[1].details["review"] == review_id
    assert entries[1].details["submission"] == letter
    assert "affected" not in str([e.details for e in entries])
    assert "word0" not in str([e.details for e in entries])


@pytest.mark.parametrize(
    ("verdict", "comment", "message"),
    [
        ("returned", "", "Write a comment saying what to change"),
        ("returned", "   \n ", "Write a comment saying what to change"),
        ("returned", "x" * 2001, "longer than 2000 characters"),
        ("returned", "bell\x07", "control character"),
        ("maybe", "", "Choose to accept the piece or to return it."),
    ],
)
def test_a_bad_verdict_is_refused_with_a_reason_and_records_nothing(
    client: TestClient,
    scheme: Scheme,
    sessions: SessionFactory,
    verdict: str,
    comment: str,
    message: str,
) -> None:
    letter = submission(sessions, scheme.finished, "letter")
    csrf = signed_in(client, "north.officer")

    status, body = decide(client, csrf, letter, verdict, comment)

    assert status == 400
    assert message in body
    assert 'data-testid="verdict-form"' in body  # the form is offered again
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(Review)) == 0
        assert (
            s.scalar(
                select(func.count()).select_from(Change).where(Change.kind == ChangeKind.REVIEW)
            )
            == 0
        )


def test_a_piece_is_judged_once_and_only_in_its_latest_version(
    client: TestClient, scheme: Scheme, sessions: SessionFactory
) -> None:
    alice = scheme.finished
    letter = submission(sessions, alice, "letter")
    csrf = signed_in(client, "north.officer")
    assert decide(client, csrf, letter, "accepted")[0] == 303

    twice = decide(client, csrf, letter, "returned", COMMENT)
    reflection = submission(sessions, alice, "what-happened")
    resubmit(scheme.north_kiosk, alice, "what-happened", "reflection.submitted", 45)
    superseded = decide(client, csrf, reflection, "accepted")

    assert twice[0] == 409
    assert "A verdict on this piece has already been recorded." in twice[1]
    assert superseded[0] == 409
    assert "The participant has sent a newer version" in superseded[1]
    with sessions() as s:
        assert s.scalars(select(Review.verdict)).all() == ["accepted"]


def test_the_database_holds_one_verdict_per_piece(scheme: Scheme, sessions: SessionFactory) -> None:
    letter = submission(sessions, scheme.finished, "letter")
    with sessions() as s:
        officer = s.scalars(select(StaffUser.id).where(StaffUser.username == "north.officer")).one()

    def verdict(kind: str) -> Review:
        return Review(
            enrolment_id=scheme.finished.enrolment_id,
            submission_event_id=letter,
            step_id="letter",
            reviewer_id=officer,
            verdict=kind,
            comment="",
            at=datetime.now(UTC),
        )

    with sessions.begin() as s:
        s.add(verdict("accepted"))
    with pytest.raises(IntegrityError), sessions.begin() as s:
        s.add(verdict("returned"))


def test_another_forces_work_is_not_found_and_the_try_is_audited(
    client: TestClient, scheme: Scheme, sessions: SessionFactory
) -> None:
    letter = submission(sessions, scheme.finished, "letter")
    csrf = signed_in(client, "south.officer")
    missing = "00000000-0000-4000-8000-000000000000"

    seen = client.get(f"/dashboard/review/{letter}")
    posted = decide(client, csrf, letter, "accepted")
    absent = client.get(f"/dashboard/review/{missing}")

    assert seen.status_code == absent.status_code == posted[0] == 404
    assert seen.text.replace(letter, "") == absent.text.replace(missing, "")
    assert "word0" not in seen.text
    with sessions() as s:
        refused = s.scalars(
            select(AuditEntry.subject).where(AuditEntry.action == "review.view_refused")
        ).all()
        assert s.scalar(select(func.count()).select_from(Review)) == 0
    assert refused == [letter, letter, missing]


def test_a_verdict_without_the_forms_token_is_refused(
    client: TestClient, scheme: Scheme, sessions: SessionFactory
) -> None:
    letter = submission(sessions, scheme.finished, "letter")
    signed_in(client, "north.officer")

    status, body = decide(client, "forged", letter, "accepted")

    assert status == 403
    assert "Form refused" in body
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(Review)) == 0


# --- the wire record of a verdict --------------------------------------------------------

SUBMISSION = "0b6f2a8e-1f5c-4d4e-9a1b-2c3d4e5f6a7b"
VERDICT = {
    "submission_id": SUBMISSION,
    "participant_id": "1c6f2a8e-1f5c-4d4e-9a1b-2c3d4e5f6a7b",
    "enrolment_id": "2d6f2a8e-1f5c-4d4e-9a1b-2c3d4e5f6a7b",
    "step_id": "letter",
    "verdict": "returned",
    "comment": "Say sorry to the shop owner too.",
    "reviewed_at": "2026-11-01T10:00:00Z",
}


@pytest.mark.parametrize(
    "changes",
    [
        {"comment": ""},
        {"comment": "  "},
        {"verdict": "rejected"},
        {"comment": "x" * 2001},
        {"reviewed_at": "2026-11-01T10:00:00"},
        {"reviewer": "north.officer"},
    ],
)
def test_a_bad_review_verdict_is_refused_on_the_wire(changes: dict[str, str]) -> None:
    protocol.ReviewVerdict.model_validate(VERDICT)
    with pytest.raises(ValidationError):
        protocol.ReviewVerdict.model_validate({**VERDICT, **changes})


def test_a_review_change_is_named_after_the_submission_it_judges() -> None:
    good = {"seq": 3, "kind": "review", "op": "upsert", "id": SUBMISSION, "data": VERDICT}
    protocol.Change.model_validate(good)
    with pytest.raises(ValidationError, match="named after the submission"):
        protocol.Change.model_validate({**good, "id": VERDICT["enrolment_id"]})


def test_the_rules_read_a_verdict_as_the_review_of_its_submission() -> None:
    verdict = protocol.ReviewVerdict.model_validate(VERDICT)
    written = datetime(2026, 10, 30, 9, 0, tzinfo=UTC)
    letter = RuleEvent(
        id=SUBMISSION,
        type="letter.submitted",
        step_id="letter",
        occurred_at=written,
        data={"text": " ".join(["sorry"] * 80)},
    )
    later = letter.model_copy(
        update={"id": "3e6f2a8e-1f5c-4d4e-9a1b-2c3d4e5f6a7b", "occurred_at": written + timedelta(1)}
    )
    programme = authoring.load_source(SAMPLE).programme
    returned = progress(programme, [letter, verdict.rule_event()])
    resent = progress(programme, [letter, verdict.rule_event(), later])

    assert returned.step("letter").review is ReviewState.RETURNED
    assert returned.returned_for_changes == ("letter",)
    assert resent.step("letter").review is ReviewState.AWAITING
    assert verdict.rule_event().id == verdict.rule_event().id != SUBMISSION
