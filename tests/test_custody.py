"""Chain of custody in pieces: the writer that hashes a segment as FFmpeg writes it, the reader that hashes a
segment as an export reads it (however it seeks), and reconciliation hashing what a crash left unindexed."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import av
import pytest

from storage.custody import CheckedSegment, CustodyError, HashingWriter, sha256_file
from storage.index import RecordingIndex
from storage.layout import segment_relpath
from storage.probe import open_recording
from storage.reconcile import reconcile
from storage.segment_file import SegmentFile
from tests.support.media import encode_video


class Trickle:
    """A raw file that takes at most 1000 bytes a write, as a raw file may."""

    def __init__(self) -> None:
        self.written = bytearray()

    def write(self, data: bytes | memoryview, /) -> int:
        self.written += data[:1000]
        return min(len(data), 1000)


def test_the_writer_hashes_exactly_what_reaches_the_file_even_in_short_writes() -> None:
    out = Trickle()
    writer = HashingWriter(out)
    payload = bytes(range(256)) * 40
    assert writer.write(payload) == len(payload) and writer.write(b"end") == 3
    assert out.written == payload + b"end"
    assert writer.size == len(payload) + 3 and writer.hexdigest() == hashlib.sha256(payload + b"end").hexdigest()


def record_segment(tmp_path: Path, segment: Path) -> str:
    """Record three seconds of H.264 to `segment` as a camera's segment is written; its hash as it was written."""
    source = tmp_path / "source.mp4"
    encode_video(source, seconds=3)
    with av.open(str(source)) as container:
        stream = container.streams.video[0]
        writer = SegmentFile(segment, stream)
        for packet in container.demux(stream):
            if packet.dts is not None:
                writer.write(packet)
        writer.close()
    assert writer.sha256 is not None
    return writer.sha256


def test_a_segment_file_knows_its_hash_when_it_closes(tmp_path: Path) -> None:
    segment = tmp_path / "cam" / "segment.mp4"
    assert record_segment(tmp_path, segment) == sha256_file(segment)


def test_the_reader_hashes_the_whole_file_however_it_is_read(tmp_path: Path) -> None:
    data = bytes(range(256)) * 5000
    (tmp_path / "seg.mp4").write_bytes(data)
    recorded = hashlib.sha256(data).hexdigest()
    with CheckedSegment(tmp_path, "seg.mp4", recorded) as reader:
        assert reader.read(100) == data[:100]
        reader.seek(50_000)  # skipped: hashed on the way
        assert reader.read(10) == data[50_000:50_010]
        reader.seek(20)  # read again: not hashed twice
        assert reader.read(200) == data[20:220]
        reader.seek(-5, io.SEEK_END)
        assert reader.read() == data[-5:]
    assert reader.sha256 == recorded
    with CheckedSegment(tmp_path, "seg.mp4", recorded) as unread:
        pass
    assert unread.sha256 == recorded, "closing hashes what was never read"


def test_the_reader_refuses_a_changed_or_missing_segment(tmp_path: Path) -> None:
    (tmp_path / "seg.mp4").write_bytes(b"recorded")
    recorded = hashlib.sha256(b"recorded").hexdigest()
    (tmp_path / "seg.mp4").write_bytes(b"Recorded")
    with pytest.raises(CustodyError, match=r"segment seg\.mp4 changed since it was recorded \(recorded SHA-256 "), \
            CheckedSegment(tmp_path, "seg.mp4", recorded) as reader:
        reader.read(3)
    with pytest.raises(CustodyError, match=r"segment gone\.mp4 is missing"):
        CheckedSegment(tmp_path, "gone.mp4", recorded)
    with CheckedSegment(tmp_path, "seg.mp4", None) as unknown:  # recorded before hashes were kept
        unknown.read()
    assert unknown.sha256 == hashlib.sha256(b"Recorded").hexdigest()


def test_a_segment_that_is_no_recording_is_refused_as_changed_or_as_unreadable(tmp_path: Path) -> None:
    """Read as evidence, a segment cut short (no video track left) is refused: as changed when its hash differs
    from the recorded one, else (recorded so, or recorded before hashes were kept) as unreadable."""
    segment = tmp_path / "seg.mp4"
    recorded = record_segment(tmp_path, segment)
    segment.write_bytes(segment.read_bytes()[:200])
    unreadable = r"cannot be read as a recording \(no video track\)"
    for known, refusal in ((recorded, rf"changed since it was recorded \(recorded SHA-256 {recorded}, now "),
                           (sha256_file(segment), rf"{unreadable}, though it is the file recorded$"),
                           (None, rf"{unreadable}$")):
        with pytest.raises(CustodyError, match=rf"^segment seg\.mp4 {refusal}"), \
                CheckedSegment(tmp_path, "seg.mp4", known) as reader:
            open_recording(reader)


def test_reconciliation_hashes_the_files_a_crash_left_unindexed(tmp_path: Path) -> None:
    relpath = segment_relpath("cam0", 1_795_000_000_000)
    (tmp_path / relpath).parent.mkdir(parents=True)
    encode_video(tmp_path / relpath, seconds=2)
    index = RecordingIndex(f"sqlite:///{tmp_path / 'index.db'}", "post")
    try:
        assert reconcile(index, tmp_path).indexed == [relpath]
        [segment] = index.all_segments()
        assert segment.sha256 == sha256_file(tmp_path / relpath)
    finally:
        index.close()
