"""The district's board of camera states from MQTT keeps what posts publish, and no more: anything else under a
post's prefix (a camera name per message) grew it without end."""

from __future__ import annotations

import paho.mqtt.client as mqtt
import pytest

from nvr.config import MqttConfig
from nvr.district import status
from nvr.district.status import StatusBoard


def _published(board: StatusBoard, topic: str, payload: str) -> None:
    message = mqtt.MQTTMessage(topic=topic.encode())
    message.payload = payload.encode()
    board._on_message(board._client, None, message)


def test_the_board_keeps_camera_states_only_and_stays_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(status, "MAX_CAMERAS", 3)
    board = StatusBoard(MqttConfig(host="broker.local"), {"phuong-a": "nvr/phuong-a"})
    _published(board, "nvr/phuong-a/available", "online")
    _published(board, "nvr/phuong-a/cam0/status", "online")
    _published(board, "nvr/phuong-a/cam1/status", "offline")
    _published(board, "nvr/phuong-a/cam2/status", "x" * 10_000)  # not a state
    _published(board, "nvr/phuong-a/Not A Name/status", "online")  # not a camera name
    for k in range(100):
        _published(board, f"nvr/phuong-a/flood{k}/status", "online")
    assert (board.available("phuong-a"), board.camera("phuong-a", "cam0"), board.camera("phuong-a", "cam1")) == (
        "online", "online", "offline")
    assert board.camera("phuong-a", "cam2") is None and board.camera("phuong-a", "Not A Name") is None
    assert len(board._cameras) == 3
    _published(board, "nvr/phuong-a/cam0/status", "offline")  # a camera known is followed past the cap
    _published(board, "nvr/phuong-a/cam1/status", "")  # removed: its retained status deleted
    assert board.camera("phuong-a", "cam0") == "offline" and board.camera("phuong-a", "cam1") is None
