"""camera places: a camera's title and location over time, so that an export names where it stood when recorded

Revision ID: 0016
Revises: 0015

Each camera with settings starts with the place it has now, since 0 (before the history was kept: what it was
then is not known, the place it has now is the best word there is).
"""

import json

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    places = op.create_table(
        "camera_places",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("camera_id", sa.Integer, sa.ForeignKey("cameras.id", ondelete="CASCADE"), nullable=False),
        sa.Column("since_ms", sa.BigInteger, nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("location", sa.Text, nullable=False),
    )
    op.create_index("ix_camera_places_camera_since", "camera_places", ["camera_id", "since_ms"])
    cameras = op.get_bind().execute(sa.text("SELECT id, settings FROM cameras WHERE settings IS NOT NULL")).all()
    rows = []
    for camera_id, settings in cameras:
        try:
            known = json.loads(settings)
        except ValueError:
            known = {}
        known = known if isinstance(known, dict) else {}
        rows.append({"camera_id": camera_id, "since_ms": 0, "title": str(known.get("title") or ""),
                     "location": str(known.get("location") or "")})
    if rows:
        op.bulk_insert(places, rows)


def downgrade() -> None:
    op.drop_index("ix_camera_places_camera_since", "camera_places")
    op.drop_table("camera_places")
