"""What is done once before the cameras are read: folders, the first administrator, the cameras of
config.yaml written to the catalog and dealt round the recorders, what the recorders journaled and did not
write, the catalog made to agree with the files of the cameras no recorder reads, and the outages the previous
run left open.

The recorders' own cameras are checked against their files by each recorder once its cameras record
(`nvr.runtime.recorder_process`): checked here, a month's catalog of a post kept its cameras from recording for
minutes after every power cut (20 microseconds a segment: 8.6 million segments, about 3 minutes; 2026-12-01).
"""

from __future__ import annotations

import os

from nvr.cameras import assign_recorders, recorder_cameras, seed_from_config
from nvr.config import Config
from nvr.first_admin import ensure_first_admin
from nvr.runtime.shards import recorder_count
from storage.accounts import AccountStore
from storage.camera_store import CameraStore
from storage.catalog_writer import replay_journals
from storage.clock import now_ms
from storage.index import RecordingIndex
from storage.reconcile import reconcile


def prepare_catalog(config: Config, index: RecordingIndex, accounts: AccountStore) -> None:
    now = now_ms()
    config.segments_dir.mkdir(parents=True, exist_ok=True)
    ensure_first_admin(accounts, config.data_dir, os.environ)
    cameras = CameraStore(index)
    seed_from_config(config, cameras, now)
    recorders = recorder_count(config)
    assign_recorders(cameras, recorders)
    replay_journals(index, config.data_dir)  # first: rows with the hashes taken as the files were recorded
    recorded = frozenset(camera.name for shard in range(recorders) for camera in recorder_cameras(cameras, shard))
    reconcile(index, config.segments_dir, leaving=recorded)
    index.close_outages(now)  # whatever was open ended with the previous run
