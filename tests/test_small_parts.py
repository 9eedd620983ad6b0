"""Small pure parts: time parsing, URL redaction, receive clock, backoff, detection's tick rate."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

from ingest.clock import ReceiveClock
from ingest.clock_check import ClockCheck
from ingest.urls import redact_text, redact_url, register_url_secrets
from ingest.worker import Backoff
from nvr.runtime.detector_process import REST_SECONDS, TICK_SECONDS, rest_after
from nvr.times import TimeFormatError, format_instant, parse_instant

HCM = ZoneInfo("Asia/Ho_Chi_Minh")


def test_instants_in_every_accepted_form() -> None:
    expected = 1_795_000_000_000
    assert parse_instant("1795000000", HCM) == expected
    assert parse_instant("1795000000.25", HCM) == expected + 250
    iso = format_instant(expected, HCM)
    assert iso.endswith("+07:00") and parse_instant(iso, HCM) == expected
    assert parse_instant(iso.replace("+07:00", "Z").replace("T", " "), HCM) == expected + 7 * 3_600_000
    assert parse_instant(iso[:19], HCM) == expected  # no offset: the station's local time
    for bad in ("yesterday", "2026-13-01T00:00:00", "", "inf", "nan", "1_795_000_000", "\u0661\u0667\u0669\u0665"):
        with pytest.raises(TimeFormatError):  # float() took the last two as numbers of seconds
            parse_instant(bad, HCM)


def test_passwords_are_redacted_wherever_they_appear() -> None:
    assert redact_url("rtsp://admin:p@ss:w0rd@10.0.0.2:554/x") == "rtsp://admin:***@10.0.0.2:554/x"
    message = "Connection refused: 'rtsp://admin:hunter2@10.0.0.2/ch1' and rtsps://u:v@h/y"
    assert "hunter2" not in redact_text(message) and ":v@" not in redact_text(message)
    assert redact_url("rtsp://10.0.0.2/ch1") == "rtsp://10.0.0.2/ch1"
    for secret in ("mật khẩu", "it's", 'say "hi"', "a/b@c:d"):  # quotes, spaces, '/', '@', ':' and diacritics
        assert redact_url(f"rtsp://admin:{secret}@10.0.0.2/ch1") == "rtsp://admin:***@10.0.0.2/ch1"
    assert redact_url("rtsp://token-only@10.0.0.2/ch1") == "rtsp://***@10.0.0.2/ch1"
    # cameras that take their login in the query
    assert (redact_url("rtsp://10.0.0.5:554/live?user=admin&password=S3cret&channel=1")
            == "rtsp://10.0.0.5:554/live?user=admin&password=***&channel=1")
    assert redact_url("rtsps://u:p@h/x?PWD=abc&token=def") == "rtsps://u:***@h/x?PWD=***&token=***"
    # a value in a URL runs to the next parameter, spaces, quotes and '#' in it (an audit: "?pwd=*** SpacePw2")
    for typed in ("ab SpacePw2", "ab'QuotePw1", 'a"b', "ab#cd"):
        assert redact_url(f"rtsp://h/x?user=admin&pwd={typed}&channel=1") == "rtsp://h/x?user=admin&pwd=***&channel=1"
        assert redact_url(f"rtsp://h/x?password={typed}") == "rtsp://h/x?password=***"
    assert redact_url("rtsp://h/x?user=admin&pass=PassPw3") == "rtsp://h/x?user=admin&pass=***"
    # XMEye's DVRs take the login in the path
    xmeye = "rtsp://10.0.0.7:554/user=admin_password=XmPw4_channel=1_stream=0.sdp?real_stream"
    assert redact_url(xmeye) == "rtsp://10.0.0.7:554/user=admin_password=***_channel=1_stream=0.sdp?real_stream"
    assert "XmPw4" not in redact_text(f"Connection refused: '{xmeye}'")
    register_url_secrets("rtsp://h/x?pwd=ab SpacePw2")
    assert "SpacePw2" not in redact_text("opening rtsp://h/x?pwd=ab SpacePw2 failed"), "free text: as registered"


def test_clock_keeps_camera_durations_and_flags_jumps() -> None:
    clock = ReceiveClock(live=False)
    first = clock.stamp(100.0, keyframe=True)
    assert clock.stamp(101.5, keyframe=False).wall == pytest.approx(first.wall + 1.5)
    assert clock.stamp(50.0, keyframe=True).discontinuity  # camera time went backwards
    assert clock.stamp(500.0, keyframe=True).discontinuity  # or leapt forward


def test_live_clock_resyncs_to_the_receive_clock_at_keyframes() -> None:
    clock = ReceiveClock(live=True, resync_seconds=1.0)
    first = clock.stamp(0.0, keyframe=True)
    drifted = clock.stamp(5.0, keyframe=True)  # 5 s of camera time arrived at once: camera clock runs fast
    assert not drifted.discontinuity and drifted.wall < first.wall + 1.0


class FakeTime:
    """Stands in for the `time` module of ingest.clock: the process reads packets when the test says."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.set_by = 0.0  # how far the station's clock was set since the test began

    def monotonic(self) -> float:
        return self.now

    def time(self) -> float:
        return 1_800_000_000.0 + self.now + self.set_by


def test_live_clock_does_not_follow_a_reader_that_falls_behind(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeTime()
    monkeypatch.setattr("ingest.clock.time", fake)
    clock = ReceiveClock(live=True, resync_seconds=1.0)
    first = clock.stamp(0.0, keyframe=True)
    for second in range(1, 11):  # camera seconds 1..10 read 5 s late, each a keyframe
        fake.now = 1000.0 + second + 5.0
        late = clock.stamp(float(second), keyframe=True)
    assert late.wall - first.wall == pytest.approx(10.0, abs=0.02), "a busy process does not make pictures late"


def test_live_clock_follows_a_slow_camera_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeTime()
    monkeypatch.setattr("ingest.clock.time", fake)
    clock = ReceiveClock(live=True, resync_seconds=1.0)
    first = clock.stamp(0.0, keyframe=True)
    for second in range(1, 4001):  # the camera's second lasts 1.0005 of ours
        fake.now = 1000.0 + second * 1.0005
        stamp = clock.stamp(float(second), keyframe=True)
    assert abs((stamp.wall - first.wall) - 4000 * 1.0005) <= 1.0


@pytest.mark.parametrize("live", [True, False])
@pytest.mark.parametrize("set_by", [3 * 86400.0, -3600.0])
def test_stamps_follow_the_station_clock_when_it_is_set(monkeypatch: pytest.MonkeyPatch, live: bool,
                                                          set_by: float) -> None:
    """A clock that booted in the past and is set right (or one set back): the pictures after it carry the clock as
    set, also from a camera whose clock runs slow, whose anchor otherwise moves only at the drift's pace."""
    fake = FakeTime()
    monkeypatch.setattr("ingest.clock.time", fake)
    clock = ReceiveClock(live=live, resync_seconds=1.0)
    first = clock.stamp(0.0, keyframe=True)
    fake.now += 1.0005
    assert clock.stamp(1.0, keyframe=True).wall == pytest.approx(first.wall + 1.0, abs=0.01)
    fake.set_by = set_by
    for second in range(2, 6):
        fake.now += 1.0005
        stamp = clock.stamp(float(second), keyframe=second % 2 == 0)
        assert stamp.wall == pytest.approx(first.wall + second + set_by, abs=0.01) and not stamp.discontinuity


def test_a_thread_held_between_reading_its_two_clocks_does_not_look_like_a_setting(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Descheduled 0.6 s between the monotonic and the wall clock's reads (a busy process): the clocks were not set,
    and the picture is stamped on time (found in review: it was stamped 0.6 s late, and the next ones went back)."""

    class HeldBetweenReads(FakeTime):
        held = 0.0

        def time(self) -> float:
            self.now, self.held = self.now + self.held, 0.0
            return super().time()

    fake = HeldBetweenReads()
    monkeypatch.setattr("ingest.clock.time", fake)
    clock = ReceiveClock(live=True, resync_seconds=1.0)
    first = clock.stamp(0.0, keyframe=True)
    for frame in range(1, 8):
        fake.now += 0.04
        fake.held = 0.6 if frame == 4 else 0.0
        stamp = clock.stamp(frame * 0.04, keyframe=False)
        assert stamp.wall - first.wall == pytest.approx(frame * 0.04, abs=0.001), frame


def test_clock_check_flags_an_offset_beyond_the_tolerance_once() -> None:
    check = ClockCheck(tolerance_seconds=2.0)
    readings = [check.read(100.0 + offset, 100.0) for offset in (0.1, 0.2, 7.0, 7.1, 1.9, 1.7, -3.0)]
    assert [r.beyond_tolerance for r in readings] == [False, False, True, True, True, False, True]
    assert [r.changed for r in readings] == [True, False, True, False, False, True, True]
    assert readings[2].offset_seconds == pytest.approx(7.0)


def test_backoff_grows_to_its_cap_with_jitter_and_resets() -> None:
    backoff = Backoff(0.5, 3.0)
    delays = [backoff.next_delay() for _ in range(8)]
    assert 0.375 <= delays[0] <= 0.5 and all(d <= 3.0 for d in delays) and delays[-1] >= 2.25
    backoff.reset()
    assert backoff.next_delay() <= 0.5


def test_detection_ticks_keep_their_period_and_rest_between_long_ones() -> None:
    """A tick of 20 ms is followed by 30 ms of rest (20 ticks a second, faster than the cameras' frames), not 50 ms
    (14 a second: a 15 fps camera's frames skipped); one longer than the period by the short rest alone."""
    assert rest_after(0.02) == pytest.approx(TICK_SECONDS - 0.02)
    assert rest_after(0.0) == TICK_SECONDS
    assert rest_after(0.2) == REST_SECONDS
