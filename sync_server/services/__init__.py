"""Domain logic: enrolment, ingest, pulls, packs, administration."""
