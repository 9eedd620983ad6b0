"""Index tables. Instants are UTC milliseconds since the epoch (exact, and the same on SQLite and PostgreSQL).

Catalog rows carry the `station` that owns them: several boxes may share one PostgreSQL, and each
reads, closes and deletes only its own rows. Accounts (users, grants, tokens) are not scoped yet.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
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
    # the name taken again after a removal: rows that began before it go to the set-aside camera
    set_aside_until_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    set_aside_id: Mapped[int | None] = mapped_column(Integer, nullable=True)


class CameraPlaceRow(Base):
    """A camera's title and location from `since_ms` on (its station is the camera's): an export names the place a
    camera stood when its footage was recorded, not where it stands now (storage/camera_store.py)."""

    __tablename__ = "camera_places"
    __table_args__ = (Index("ix_camera_places_camera_since", "camera_id", "since_ms"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    camera_id: Mapped[int] = mapped_column(ForeignKey("cameras.id", ondelete="CASCADE"), nullable=False)
    since_ms: Mapped[int] = mapped_column(BigInteger, nullable=False)  # 0: since before the history was kept
    title: Mapped[str] = mapped_column(Text, nullable=False, default="")
    location: Mapped[str] = mapped_column(Text, nullable=False, default="")


class SegmentRow(StationScoped, Base):
    """One finished recording file. `keyframes_ms` is a JSON list of keyframe offsets from `start_ms`;
    `sha256` is the file's hash taken as it was written (NULL for footage recorded before hashes were kept)."""

    __tablename__ = "segments"
    # a camera's spans, storage figures and total read from the index alone (its rows are ~400 bytes: a month of a
    # post's cameras is 8.6 million of them, design/catalog.md)
    __table_args__ = (Index("ix_segments_camera_span", "camera_id", "start_ms", "end_ms", "bytes"),
                      Index("ix_segments_station_start", "station", "start_ms"),
                      UniqueConstraint("station", "path", name="uq_segments_station_path"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    camera_id: Mapped[int] = mapped_column(ForeignKey("cameras.id", ondelete="CASCADE"), nullable=False)
    path: Mapped[str] = mapped_column(String(512), nullable=False)  # relative to the station's segments dir
    start_ms: Mapped[int] = mapped_column(BigInteger, nullable=False)
    end_ms: Mapped[int] = mapped_column(BigInteger, nullable=False)
    bytes: Mapped[int] = mapped_column(BigInteger, nullable=False)
    keyframes_ms: Mapped[str] = mapped_column(Text, nullable=False)
    sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)


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
    must_change_password: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False,
                                                       server_default=false())


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


class MachineKeyRow(Base):
    """A long-lived API key of a user, for machines (the district server); only its SHA-256 is stored. A
    revoked key keeps its row (`revoked_ms`), so the listing and the audit log still name it."""

    __tablename__ = "machine_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    label: Mapped[str] = mapped_column(String(64), nullable=False, default="")
    created_ms: Mapped[int] = mapped_column(BigInteger, nullable=False)
    revoked_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


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


# events lasting longer, or not ended: few, in a partial index of their own, so that a window's events are read from
# their starts within the window and this much before it, plus these (storage/events.py). The text is the index's own:
# SQLite uses a partial index only for a query that states its condition.
LONG_EVENT_MS = 3_600_000
LONG_EVENT = text(f"(end_ms IS NULL OR end_ms - start_ms > {LONG_EVENT_MS})")  # bracketed: SQL text is not grouped


class EventRow(StationScoped, Base):
    """A detection event; `end_ms` is NULL while it lasts. `boxes` is JSON: normalized [x, y, w, h] lists.
    `ack_ms` is NULL until a user (`ack_by`) acknowledges it, with a note."""

    __tablename__ = "events"
    __table_args__ = (Index("ix_events_camera_start", "camera_id", "start_ms"),
                      Index("ix_events_station_start", "station", "start_ms"),
                      Index("ix_events_long", "station", "start_ms", sqlite_where=LONG_EVENT,
                            postgresql_where=LONG_EVENT))

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


class MotionGridRow(StationScoped, Base):
    """Where a camera saw motion during one minute (see storage/motion_grids.py); minutes without motion have
    no row. Bit i of `seconds` is second i of the minute; `cells` holds one 18-byte grid per set bit, in order."""

    __tablename__ = "motion_grids"

    camera_id: Mapped[int] = mapped_column(ForeignKey("cameras.id", ondelete="CASCADE"), primary_key=True)
    minute_ms: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    seconds: Mapped[int] = mapped_column(BigInteger, nullable=False)
    cells: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)


class CaseFields:
    """What a case is, at a station (`cases`) or at the district (`district_cases`)."""

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    note: Mapped[str] = mapped_column(Text, nullable=False, default="")
    status: Mapped[str] = mapped_column(String(8), nullable=False)  # open | closed
    created_ms: Mapped[int] = mapped_column(BigInteger, nullable=False)
    created_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    updated_ms: Mapped[int] = mapped_column(BigInteger, nullable=False)  # any change to the case or its items


# SQLite gives a new row the highest id + 1, so deleting the newest case or bookmark handed its id to the next one: an
# audit row "case 4" then named two cases, and a case item kept a deleted bookmark's id, now an unrelated one's
# (found in review). AUTOINCREMENT never hands an id out twice; PostgreSQL's sequences never did.
NEVER_REUSED = {"sqlite_autoincrement": True}


class CaseRow(StationScoped, CaseFields, Base):
    """A case: the unit of evidence. While it is `open`, the footage of its items is locked against retention."""

    __tablename__ = "cases"
    __table_args__ = (Index("ix_cases_station_status", "station", "status"), NEVER_REUSED)


class CaseItemRow(Base):
    """A range of one camera in a case (its station is the case's); `event_id` / `bookmark_id` say where it
    was added from (kept as plain numbers: the event or bookmark may be deleted later)."""

    __tablename__ = "case_items"
    __table_args__ = (Index("ix_case_items_camera_start", "camera_id", "start_ms"),
                      Index("ix_case_items_case", "case_id"), NEVER_REUSED)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), nullable=False)
    camera_id: Mapped[int] = mapped_column(ForeignKey("cameras.id", ondelete="CASCADE"), nullable=False)
    start_ms: Mapped[int] = mapped_column(BigInteger, nullable=False)
    end_ms: Mapped[int] = mapped_column(BigInteger, nullable=False)
    note: Mapped[str] = mapped_column(Text, nullable=False, default="")
    event_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    bookmark_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    added_ms: Mapped[int] = mapped_column(BigInteger, nullable=False)
    # made of an event still going on, its end not typed: it runs to the event's end once that is known
    follows_event: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False, server_default=false())
    added_by: Mapped[str | None] = mapped_column(String(64), nullable=True)


class BookmarkRow(StationScoped, Base):
    """A moment on a camera with a note."""

    __tablename__ = "bookmarks"
    __table_args__ = (Index("ix_bookmarks_camera_at", "camera_id", "at_ms"),
                      Index("ix_bookmarks_station_at", "station", "at_ms"), NEVER_REUSED)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    camera_id: Mapped[int] = mapped_column(ForeignKey("cameras.id", ondelete="CASCADE"), nullable=False)
    at_ms: Mapped[int] = mapped_column(BigInteger, nullable=False)
    note: Mapped[str] = mapped_column(Text, nullable=False, default="")
    created_ms: Mapped[int] = mapped_column(BigInteger, nullable=False)
    created_by: Mapped[str | None] = mapped_column(String(64), nullable=True)


class DistrictCaseRow(CaseFields, Base):
    """A case of the district server (`nvr district`): items of several posts. Each involved post holds a
    mirror of it (a case of its own, `DistrictCasePostRow`), which is what locks the footage there."""

    __tablename__ = "district_cases"


class DistrictCaseItemRow(Base):
    """A range of one post's camera (named, not a camera row: the post owns its rows); `post_item_id` is the
    item's id in that post's mirror case."""

    __tablename__ = "district_case_items"
    __table_args__ = (Index("ix_district_case_items_case", "case_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("district_cases.id", ondelete="CASCADE"), nullable=False)
    station: Mapped[str] = mapped_column(String(63), nullable=False)
    camera: Mapped[str] = mapped_column(String(63), nullable=False)
    start_ms: Mapped[int] = mapped_column(BigInteger, nullable=False)
    end_ms: Mapped[int] = mapped_column(BigInteger, nullable=False)
    note: Mapped[str] = mapped_column(Text, nullable=False, default="")
    added_ms: Mapped[int] = mapped_column(BigInteger, nullable=False)
    added_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    post_item_id: Mapped[int] = mapped_column(Integer, nullable=False)


class DistrictCasePostRow(Base):
    """The case on post `station` that mirrors a district case."""

    __tablename__ = "district_case_posts"

    case_id: Mapped[int] = mapped_column(ForeignKey("district_cases.id", ondelete="CASCADE"), primary_key=True)
    station: Mapped[str] = mapped_column(String(63), primary_key=True)
    post_case_id: Mapped[int] = mapped_column(Integer, nullable=False)


class ClockReadingRow(Base):
    """The station's clock as retention last read it: against the next reading of the same boot, a step shows."""

    __tablename__ = "clock_readings"

    station: Mapped[str] = mapped_column(String(63), primary_key=True)
    boot: Mapped[str] = mapped_column(String(64), nullable=False)  # the kernel's boot id
    since_boot_ms: Mapped[int] = mapped_column(BigInteger, nullable=False)  # CLOCK_BOOTTIME: never steps
    wall_ms: Mapped[int] = mapped_column(BigInteger, nullable=False)
    boot_wall_ms: Mapped[int] = mapped_column(BigInteger, nullable=False)  # the boot's start, by its first reading


class ClockStepRow(StationScoped, Base):
    """A forward step of the station's clock (storage/clock_steps.py)."""

    __tablename__ = "clock_steps"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    before_ms: Mapped[int] = mapped_column(BigInteger, nullable=False)  # the old clock's reading at the step
    after_ms: Mapped[int] = mapped_column(BigInteger, nullable=False)  # the new clock's
    since_ms: Mapped[int] = mapped_column(BigInteger, nullable=False)  # the old clock's at the boot's start
