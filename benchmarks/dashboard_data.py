"""Set-based generation of a scheme-sized PostgreSQL database for the dashboard budgets.

Everything is INSERT ... SELECT over generate_series on the server, seeded, so a run takes
minutes and two runs hold the same rows. The events table is loaded without its indexes and
constraints, which are then rebuilt from their own definitions (a sorted build, not millions
of random inserts), so the schema benchmarked is exactly the migrated one.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date

import psycopg
from psycopg.types.json import Jsonb

Connection = psycopg.Connection[tuple[object, ...]]

# Half the enrolments in north, 30 % in south, 20 % in west (see _PLAN).
FORCES = (("north", "North Constabulary"), ("south", "South Police"), ("west", "West Police"))
SITES_PER_FORCE = {"north": 4, "south": 3, "west": 3}
DEVICES_PER_SITE = 30
PROGRAMMES = (
    ("alcohol-awareness", "Alcohol awareness"),
    ("anti-theft", "Thinking about theft"),
    ("road-safety", "Safer roads"),
    ("victim-awareness", "Understanding the harm to victims"),
)
VERSIONS = 2  # per programme; the overview shows the newest title


@dataclass(frozen=True)
class Volume:
    participants: int
    enrolments: int
    events: int
    devices: int
    sites: int
    forces: int


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _reference_data(conn: Connection) -> None:
    for force_id, name in FORCES:
        conn.execute(
            "INSERT INTO forces (id, name, created_at) VALUES (%s, %s, now() - interval '3 years')",
            (force_id, name),
        )
    for force_id, count in SITES_PER_FORCE.items():
        conn.execute(
            """INSERT INTO sites (id, force_id, name, created_at)
               SELECT %(force)s || '-site-' || n, %(force)s,
                      initcap(%(force)s) || ' custody suite ' || n, now() - interval '3 years'
               FROM generate_series(1, %(count)s) AS n""",
            {"force": force_id, "count": count},
        )
    conn.execute(
        """INSERT INTO devices (id, force_id, site_id, name, ed25519_public_key, x25519_recipient,
                                access_code_prefix, app_version, enrolled_at, last_seen_at,
                                last_pull_cursor)
           SELECT md5('device:' || s.id || ':' || n)::uuid::text, s.force_id, s.id,
                  'Kiosk ' || n || ' at ' || s.name,
                  decode(md5('ed:' || s.id || n) || md5('ed2:' || s.id || n), 'hex'),
                  'age1' || md5('x:' || s.id || n) || substr(md5('y:' || s.id || n), 1, 22),
                  upper(lpad(to_hex((row_number() OVER (PARTITION BY s.force_id
                                                         ORDER BY s.id, n))::int), 3, '0')),
                  '1.' || (n %% 3) || '.0',
                  now() - interval '2 years',
                  now() - (random() * interval '3 days'),
                  NULL
           FROM sites AS s CROSS JOIN generate_series(1, %s) AS n""",
        (DEVICES_PER_SITE,),
    )
    for programme_id, title in PROGRAMMES:
        for version in range(1, VERSIONS + 1):
            conn.execute(
                """INSERT INTO packs (pack_id, version, title, language, path, payload_offset,
                                      payload_size, payload_sha256, manifest, manifest_sha256,
                                      signature, publisher_key_id, published_at, retired_at)
                   VALUES (%(id)s, %(v)s, %(title)s, 'en', %(path)s, 4096, 350000000,
                           %(payload)s, %(manifest)s, %(manifest_sha)s,
                           'untrusted comment: signature from minisign secret key',
                           'BENCHKEY', now() - %(age)s * interval '60 days', NULL)""",
                {
                    "id": programme_id,
                    "v": version,
                    "title": title if version == VERSIONS else f"{title} (draft)",
                    "path": f"packs/{programme_id}-{version}.ikpack",
                    "payload": _sha256(f"payload {programme_id} {version}"),
                    "manifest": Jsonb({"id": programme_id, "version": version, "title": title}),
                    "manifest_sha": _sha256(f"manifest {programme_id} {version}"),
                    "age": VERSIONS - version + 1,
                },
            )
    conn.execute(
        """INSERT INTO catalogue (force_id, pack, added_at)
           SELECT f.id, p.id, p.published_at FROM forces AS f CROSS JOIN packs AS p
           WHERE p.version = %s""",
        (VERSIONS,),
    )


# One row per enrolment: who, where, which programme, its state and how many events it has.
# Status: 20 % assigned, 35 % in progress, 37 % complete, 8 % withdrawn; whether an active
# one is overdue follows from its due date, spread evenly over today +-120 days.
_PLAN = """
CREATE UNLOGGED TABLE bench_plan AS
WITH drawn AS (
    SELECT i, random() AS r_status, random() AS r_due, random() AS r_len, random() AS r_done,
           random() AS r_site, random() AS r_prog, random() AS r_n, random() AS r_dev,
           CASE WHEN i % 10 < 5 THEN 'north' WHEN i % 10 < 8 THEN 'south' ELSE 'west' END
               AS force_id
    FROM generate_series(1, %(n)s) AS i
), sited AS (
    SELECT d.*, s.ids[1 + floor(d.r_site * cardinality(s.ids))::int] AS site_id,
           CASE WHEN d.r_status < 0.20 THEN 'assigned'
                WHEN d.r_status < 0.55 THEN 'in_progress'
                WHEN d.r_status < 0.92 THEN 'completed'
                ELSE 'withdrawn' END AS status,
           %(today)s::date + (floor(d.r_due * 241)::int - 120) AS due_date
    FROM drawn AS d
    JOIN (SELECT force_id, array_agg(id ORDER BY id) AS ids FROM sites GROUP BY force_id) AS s
      USING (force_id)
), timed AS (
    SELECT x.*,
           least(x.due_date - (28 + floor(x.r_len * 63)::int),
                 %(today)s::date - 1 - floor(x.r_len * 20)::int)
               + time '09:00' + x.r_len * interval '8 hours' AS assigned_at
    FROM sited AS x
)
SELECT t.i, t.force_id, t.site_id, t.status, t.due_date, t.assigned_at, t.r_done, t.r_n,
       md5('participant:' || t.i)::uuid::text AS participant_id,
       md5('enrolment:' || t.i)::uuid::text AS enrolment_id,
       (ARRAY[%(programmes)s])[1 + floor(t.r_prog * %(programme_count)s)::int] AS programme_id,
       dv.ids AS devices, dv.prefixes,
       floor(t.r_dev * cardinality(dv.ids))::int AS device_slot,
       CASE t.status
           WHEN 'completed' THEN t.assigned_at
               + (least(now(), t.due_date + interval '14 days') - t.assigned_at)
                 * (0.05 + 0.95 * t.r_done)
       END AS completed_at,
       CASE t.status
           WHEN 'assigned' THEN 2 + floor(t.r_n * 9)::int
           WHEN 'in_progress' THEN 20 + floor(t.r_n * 61)::int
           WHEN 'completed' THEN 60 + floor(t.r_n * 41)::int
           ELSE 5 + floor(t.r_n * 36)::int
       END AS n_events
FROM timed AS t
JOIN (SELECT site_id, array_agg(id ORDER BY id) AS ids,
             array_agg(access_code_prefix ORDER BY id) AS prefixes
      FROM devices GROUP BY site_id) AS dv
  USING (site_id)
"""

_PARTICIPANTS = """
INSERT INTO participants (id, force_id, site_id, first_name, surname, force_reference,
                          access_code, pin_hash, pin_must_change, failed_pin_attempts,
                          locked_at, language, accessibility, created_at, created_by_device)
SELECT p.participant_id, p.force_id, p.site_id,
       (ARRAY['Alex','Sam','Jordan','Taylor','Morgan','Casey','Jamie','Riley','Charlie',
              'Owen','Megan','Rhys','Sian','Dylan','Ffion','Liam','Olivia','Noah','Amelia',
              'Harry','Isla','Jack','Ava','Leo','Mia','Oscar','Grace','Ethan','Chloe',
              'Lucas','Ella','Mason','Zara','Adam','Aisha','Tom','Emily','Ben','Lucy',
              'Daniel'])[1 + p.i % 40],
       CASE WHEN p.i % 17 = 0 THEN NULL ELSE
       (ARRAY['Smith','Jones','Williams','Taylor','Brown','Davies','Evans','Wilson','Thomas',
              'Johnson','Roberts','Robinson','Thompson','Wright','Walker','White','Edwards',
              'Hughes','Green','Hall','Lewis','Harris','Clarke','Patel','Jackson','Wood',
              'Turner','Martin','Cooper','Hill','Ward','Morris','Moore','Clark','Lee','King',
              'Baker','Harrison','Morgan','Allen','Khan','Ali','Price','Bennett','Griffiths',
              'Lloyd','Rees','Owen','Jenkins','Kelly'])[1 + (p.i * 7) % 50] END,
       upper(p.force_id) || '/' || to_char(p.assigned_at, 'YYYY') || '/'
           || lpad(p.i::text, 6, '0'),
       p.prefixes[1 + p.device_slot] || '-' || lpad((p.i % 100000)::text, 5, '0'),
       '$argon2id$v=19$m=65536,t=3,p=4$' || md5('salt' || p.i) || '$' || md5('pin' || p.i),
       false, 0, NULL,
       CASE WHEN p.i % 20 = 0 THEN 'cy' ELSE 'en' END,
       CASE WHEN p.i % 9 = 0 THEN '{"text_size": "large", "narration": true}'::jsonb
            ELSE '{}'::jsonb END,
       p.assigned_at - interval '5 minutes',
       p.devices[1 + p.device_slot]
FROM bench_plan AS p
"""

_ENROLMENTS = """
INSERT INTO enrolments (id, participant_id, force_id, site_id, programme_id, programme_version,
                        disposal_type, conditions, offence_summary, due_date, status,
                        progress_percent, assigned_at, completed_at, completion_received_at,
                        created_by_device)
SELECT p.enrolment_id, p.participant_id, p.force_id, p.site_id, p.programme_id, {version},
       CASE WHEN p.i % 10 < 7 THEN 'conditional_caution' ELSE 'community_resolution' END,
       'Complete the programme at a custody suite kiosk by the due date.',
       CASE WHEN p.i % 3 = 0 THEN NULL ELSE 'Theft from a shop, first offence; items recovered.'
       END,
       p.due_date, p.status,
       CASE p.status WHEN 'assigned' THEN 0 WHEN 'completed' THEN 100
                     WHEN 'in_progress' THEN 5 + floor(p.r_done * 90)::int
                     ELSE floor(p.r_done * 60)::int END,
       p.assigned_at, p.completed_at,
       p.completed_at + (1 + p.r_n * 600) * interval '1 second',
       p.devices[1 + p.device_slot]
FROM bench_plan AS p
"""

# About 50 events per enrolment: registration and assignment, then sessions of viewing,
# media, quizzes and writing; a session of 25 events on one kiosk, the next maybe on another.
_EVENTS = """
INSERT INTO events (id, device_id, seq, participant_id, enrolment_id, type, step_id, data,
                    occurred_at, monotonic_ms, received_at, content_hash)
SELECT e.id, e.device_id, e.seq, e.participant_id, e.enrolment_id, e.type,
       CASE WHEN e.type IN ('participant.registered', 'enrolment.assigned', 'session.started',
                            'session.ended', 'programme.completed') THEN NULL
            ELSE 'm' || (1 + (e.k - 3) / 20) || '-s' || (1 + ((e.k - 3) % 20) / 2) END,
       CASE e.type
           WHEN 'step.viewed' THEN jsonb_build_object('dwell_ms', floor(random() * 90000)::int)
           WHEN 'media.played' THEN jsonb_build_object(
               'media', 'video-' || (e.k % 7), 'seconds', floor(random() * 240)::int)
           WHEN 'quiz.answered' THEN jsonb_build_object(
               'question', 'q' || (e.k % 5), 'answer', 'b', 'correct', random() < 0.7,
               'attempt', 1)
           WHEN 'reflection.submitted' THEN jsonb_build_object('text',
               'I did not think about who would have to pay for what I took. Next time I '
               || 'will stop and think about the people who work in the shop.')
           WHEN 'letter.submitted' THEN jsonb_build_object('text',
               'Dear manager, I am sorry for what I did in your shop. I understand it '
               || 'caused your staff worry and extra work, and I will not do it again.')
           WHEN 'enrolment.assigned' THEN jsonb_build_object('programme_id', e.programme_id)
           WHEN 'participant.registered' THEN jsonb_build_object('language', 'en')
           ELSE '{}'::jsonb
       END,
       e.occurred_at,
       e.k * 47000 + floor(random() * 1000)::bigint,
       e.occurred_at + (1 + random() * 300) * interval '1 second'
           + CASE WHEN random() < 0.05 THEN random() * interval '2 days'
                  ELSE interval '0' END,
       md5(e.id || ':a') || md5(e.id || ':b')
FROM (
    SELECT md5('event:' || p.i || ':' || k)::uuid::text AS id,
           p.devices[1 + (p.device_slot + k / 25) % cardinality(p.devices)] AS device_id,
           p.i::bigint * 1000 + k AS seq,
           p.participant_id, p.enrolment_id, p.programme_id, k,
           CASE WHEN k = 1 THEN 'participant.registered'
                WHEN k = 2 THEN 'enrolment.assigned'
                WHEN k = p.n_events AND p.status = 'completed' THEN 'programme.completed'
                ELSE (ARRAY['session.started','step.viewed','media.played','step.completed',
                            'step.viewed','quiz.answered','quiz.answered','step.completed',
                            'step.viewed','media.played','step.completed','step.viewed',
                            'step.completed','step.viewed',
                            CASE WHEN (k / 20) % 2 = 0 THEN 'reflection.submitted'
                                 ELSE 'letter.submitted' END,
                            'step.completed','step.viewed','step.completed','pledge.saved',
                            'session.ended'])[1 + (k - 3) % 20]
           END AS type,
           p.assigned_at + (coalesce(p.completed_at,
                                     p.assigned_at + (now() - p.assigned_at)
                                                     * (0.2 + 0.8 * p.r_done))
                            - p.assigned_at) * ((k - 1)::float8 / greatest(p.n_events - 1, 1))
               AS occurred_at
    FROM bench_plan AS p CROSS JOIN LATERAL generate_series(1, p.n_events) AS k
    WHERE p.i % %(workers)s = %(worker)s
) AS e
"""

_EVENT_CONSTRAINTS = """
SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid), c.contype
FROM pg_constraint AS c
WHERE c.conrelid = 'events'::regclass OR c.confrelid = 'events'::regclass
"""

_EVENT_INDEXES = """
SELECT i.relname, pg_get_indexdef(i.oid)
FROM pg_index AS x JOIN pg_class AS i ON i.oid = x.indexrelid
WHERE x.indrelid = 'events'::regclass
  AND NOT EXISTS (SELECT 1 FROM pg_constraint AS c WHERE c.conindid = i.oid)
"""


def plan(conn: Connection, *, enrolments: int, today: date) -> None:
    """Forces, sites, devices, releases, and the per-enrolment plan every table is made from."""
    conn.execute("SELECT setseed(0.6)")
    _reference_data(conn)
    programmes = ", ".join(f"'{programme_id}'" for programme_id, _ in PROGRAMMES)
    conn.execute(
        _PLAN.replace("%(programmes)s", programmes)
        .replace("%(programme_count)s", str(len(PROGRAMMES)))
        .replace("%(n)s", str(enrolments))
        .replace("%(today)s", f"'{today.isoformat()}'")
    )


def people(conn: Connection) -> None:
    conn.execute(_PARTICIPANTS)
    conn.execute(_ENROLMENTS.replace("{version}", str(VERSIONS)))


def drop_event_constraints(conn: Connection) -> list[str]:
    """Drop the events table's constraints and indexes; answer the statements restoring them,
    in order: primary key, then indexes, then the foreign keys from and to the table."""
    constraints = conn.execute(_EVENT_CONSTRAINTS).fetchall()
    indexes = conn.execute(_EVENT_INDEXES).fetchall()
    restore: list[str] = []
    foreign: list[str] = []
    for table, name, definition, kind in constraints:
        statement = f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}'
        (foreign if kind == "f" else restore).append(statement)
    restore += [str(definition) for _, definition in indexes]
    restore += foreign
    for table, name, _, _ in sorted(constraints, key=lambda row: row[3] != "f"):
        conn.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    for name, _ in indexes:
        conn.execute(f'DROP INDEX "{name}"')
    return restore


def events_sql(*, workers: int, worker: int) -> str:
    """The INSERT of one worker's share of the events (enrolments i with i % workers = worker)."""
    return _EVENTS.replace("%(workers)s", str(workers)).replace("%(worker)s", str(worker))


def volume(conn: Connection) -> Volume:
    def count(table: str) -> int:
        row = conn.execute(f"SELECT count(*) FROM {table}").fetchone()
        assert row is not None
        return int(str(row[0]))

    return Volume(
        participants=count("participants"),
        enrolments=count("enrolments"),
        events=count("events"),
        devices=count("devices"),
        sites=count("sites"),
        forces=count("forces"),
    )


def generate(
    connect: Callable[[], Connection], *, enrolments: int, today: date, workers: int
) -> Volume:
    """Fill a freshly migrated database; the events are loaded by `workers` connections."""
    with connect() as conn:
        conn.execute("SET maintenance_work_mem = '256MB'")
        plan(conn, enrolments=enrolments, today=today)
        people(conn)
        restore = drop_event_constraints(conn)

    def load(worker: int) -> None:
        with connect() as conn:
            conn.execute(events_sql(workers=workers, worker=worker))

    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(load, range(workers)))
    with connect() as conn:
        conn.execute("SET maintenance_work_mem = '512MB'")
        for statement in restore:
            conn.execute(statement)
        conn.execute("DROP TABLE bench_plan")
        # Autovacuum would have visited tables this size long before anyone looked at them;
        # doing it now also keeps it from starting in the middle of the timings.
        conn.execute("VACUUM (ANALYZE)")
        return volume(conn)
