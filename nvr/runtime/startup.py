"""What is done once before the cameras are read: folders, the first administrator, the catalog made to
agree with the files, and the outages the previous run left open."""

from __future__ import annotations

import os
import time

from nvr.config import Config
from nvr.first_admin import ensure_first_admin
from storage.accounts import AccountStore
from storage.index import RecordingIndex
from storage.reconcile import reconcile


def prepare_catalog(config: Config, index: RecordingIndex, accounts: AccountStore) -> None:
    config.segments_dir.mkdir(parents=True, exist_ok=True)
    ensure_first_admin(accounts, config.data_dir, os.environ)
    for camera in config.cameras:  # one process adds them, before several could race to
        index.camera_id(camera.name)
    reconcile(index, config.segments_dir)
    index.close_outages(round(time.time() * 1000))  # whatever was open ended with the previous run
