"""Index tables. Instants are UTC milliseconds since the epoch (exact, and the same on SQLite and PostgreSQL).

Catalog rows carry the `station` that owns them: several boxes may share one PostgreSQL, and each
reads, closes and deletes only its own rows. Accounts (users, grants, tokens) are not scoped yet.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class StationScoped:
    station: Mapped[str] = mapped_column(String(63), nullable=False)


class CameraRow(StationScoped, Base):
    """Camera names are unique within a station; two posts may both have a `hem-4`."""

    __tablename__ = "cameras"
    __table_args__ = (UniqueConstraint("station", "name", name="uq_cameras_station_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(63), nullable=False)
    settings: Mapped[str | None] = mapped_column(Text, nullable=True)  # JSON; None: known only from its footage
    managed_by: Mapped[str | None] = mapped_column(String(16), nullable=True)  # config | catalog
    recorder: Mapped[int | None] = mapped_column(Integer, nullable=True)  # the recorder process that reads it
    updated_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    removed_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)  # removed: not recorded any more


class SegmentRow(StationScoped, Base):
    """One finished recording file. `keyframes_ms` is a JSON list of keyframe offsets from `start_ms`."""

    __tablename__ = "segments"
    __table_args__ = (Index("ix_segments_camera_start", "camera_id", "start_ms"),
                      Index("ix_segments_station_start", "station", "start_ms"),
                      UniqueConstraint("station", "path", name="uq_segments_station_path"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    camera_id: Mapped[int] = mapped_column(ForeignKey("cameras.id", ondelete="CASCADE"), nullable=False)
    path: Mapped[str] = mapped_column(String(512), nullable=False)  # relative to the station's segments dir
    start_ms: Mapped[int] = mapped_column(BigInteger, nullable=False)
    end_ms: Mapped[int] = mapped_column(BigInteger, nullable=False)
    bytes: Mapped[int] = mapped_column(BigInteger, nullable=False)
    keyframes_ms: Mapped[str] = mapped_column(Text, nullable=False)


class OutageRow(StationScoped, Base):
    """A period when a camera could not be recorded, and why (end is NULL while it lasts)."""

    __tablename__ = "outages"
    __table_args__ = (Index("ix_outages_camera_start", "camera_id", "start_ms"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    camera_id: Mapped[int] = mapped_column(ForeignKey("cameras.id", ondelete="CASCADE"), nullable=False)
    start_ms: Mapped[int] = mapped_column(BigInteger, nullable=False)
    end_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    reason: Mapped[str] = mapped_column(Text, nullable=False)


class UserRow(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    password_hash: Mapped[str] = mapped_column(Text, nullable=False)
    role: Mapped[str] = mapped_column(String(16), nullable=False)  # admin | operator | viewer
    created_ms: Mapped[int] = mapped_column(BigInteger, nullable=False)


class GrantRow(Base):
    """A viewer may see this camera (admins and operators see every camera of the post)."""

    __tablename__ = "grants"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    camera_id: Mapped[int] = mapped_column(ForeignKey("cameras.id", ondelete="CASCADE"), primary_key=True)


class TokenRow(Base):
    """A login session; only the SHA-256 of the token is stored."""

    __tablename__ = "tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    expires_ms: Mapped[int] = mapped_column(BigInteger, nullable=False)


class AuditRow(StationScoped, Base):
    __tablename__ = "audit"
    __table_args__ = (Index("ix_audit_at", "at_ms"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at_ms: Mapped[int] = mapped_column(BigInteger, nullable=False)
    username: Mapped[str | None] = mapped_column(String(64), nullable=True)
    action: Mapped[str] = mapped_column(String(32), nullable=False)
    camera: Mapped[str | None] = mapped_column(String(63), nullable=True)
    detail: Mapped[str] = mapped_column(Text, nullable=False, default="")
    remote: Mapped[str | None] = mapped_column(String(64), nullable=True)


class EventRow(StationScoped, Base):
    """A detection event; `end_ms` is NULL while it lasts. `boxes` is JSON: normalized [x, y, w, h] lists.
    `ack_ms` is NULL until a user (`ack_by`) acknowledges it, with a note."""

    __tablename__ = "events"
    __table_args__ = (Index("ix_events_camera_start", "camera_id", "start_ms"),
                      Index("ix_events_station_start", "station", "start_ms"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    camera_id: Mapped[int] = mapped_column(ForeignKey("cameras.id", ondelete="CASCADE"), nullable=False)
    type: Mapped[str] = mapped_column(String(32), nullable=False)
    start_ms: Mapped[int] = mapped_column(BigInteger, nullable=False)
    end_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    score: Mapped[float] = mapped_column(Float, nullable=False)
    boxes: Mapped[str] = mapped_column(Text, nullable=False)
    snapshot: Mapped[str | None] = mapped_column(String(512), nullable=True)  # relative to the snapshots dir
    updated_ms: Mapped[int] = mapped_column(BigInteger, nullable=False)
    ack_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    ack_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    ack_note: Mapped[str | None] = mapped_column(Text, nullable=True)
