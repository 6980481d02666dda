"""The table of issued completion certificates: the signed facts and the document as issued."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from sync_server.models import Base, BigId


class Certificate(Base):
    """One completion certificate per completed enrolment.

    `record` is the canonical JSON text that was signed, kept byte for byte so a check
    needs no re-encoding; it names the PDF's SHA-256, so the signature covers the document
    too. The PDF itself is kept so every download is the very file that was signed.
    """

    __tablename__ = "certificates"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    enrolment_id: Mapped[str] = mapped_column(ForeignKey("enrolments.id"), unique=True)
    force_id: Mapped[str] = mapped_column(ForeignKey("forces.id"), index=True)
    record: Mapped[str] = mapped_column(Text)
    signature: Mapped[str] = mapped_column(String(100))
    key_id: Mapped[str] = mapped_column(String(16))
    document: Mapped[bytes] = mapped_column(LargeBinary)
    document_sha256: Mapped[str] = mapped_column(String(64), index=True)
    issued_at: Mapped[datetime]
    issued_by: Mapped[int] = mapped_column(ForeignKey("staff_users.id"))
