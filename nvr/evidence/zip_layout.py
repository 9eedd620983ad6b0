"""The ZIP container of an export, checked as strictly as it is written.

The signature covers the manifest, and the manifest each member's bytes: what is left is the container. Readers
do not agree on which copy of a member is "the" one: Python's zipfile (and so `nvr verify`) reads the central
directory at the end, a streaming reader (`jar x`, many unzip tools) reads the local headers from the start. An
export with a forged copy put in front of the genuine one verified, and extracted the forgery elsewhere (found by a
review, 2026-11-30). A station writes every member stored (no compression), back to back from the file's first
byte, the central directory right after the last one, and the end record last, without a comment. Anything else is
refused here, before a member is read: which also keeps compressed "bombs" and encrypted or exotic members out.
"""

from __future__ import annotations

import struct
import zipfile
from pathlib import Path
from typing import BinaryIO

LOCAL = struct.Struct("<4s5H3L2H")  # signature, version, flags, method, time, date, crc, sizes, name and extra lengths
END = struct.Struct("<4s4H2LH")  # signature, disks, entries here and in all, directory size and offset, comment length
ZIP64_END = struct.Struct("<4sQ2H2L4Q")  # ... entries here and in all, directory size and offset
ZIP64_LOCATOR = struct.Struct("<4sLQL")
ZIP64_EXTRA = 0x0001
ALLOWED_FLAGS = 0x800  # names in UTF-8 (a station writes to a file it can seek in: no data descriptors)
MAX_MEMBERS = 100_000


class LayoutError(ValueError):
    """How the container differs from what a station writes."""


def check_layout(path: Path, archive: zipfile.ZipFile) -> None:
    """Raise LayoutError unless the ZIP at `path` (opened as `archive`) is laid out as a station writes it."""
    members = archive.infolist()
    if len(members) > MAX_MEMBERS:
        raise LayoutError(f"{len(members)} members: more than an export holds")
    with path.open("rb") as file:
        size = file.seek(0, 2)
        directory_at, entries = _end_records(file, size)
        if entries != len(members):
            raise LayoutError("the end record counts other members than the directory holds")
        at = 0
        for member in members:
            if member.header_offset != at:
                raise LayoutError(f"{member.filename}: not where the member before it ends (bytes put between)")
            at = _member_end(file, member)
        if at != directory_at:
            raise LayoutError("bytes between the last member and the directory")


def _end_records(file: BinaryIO, size: int) -> tuple[int, int]:
    """(the directory's offset, the members it counts) from the end record, which must close the file
    with no comment after it; through the ZIP64 records when the end record points to them."""
    end = _read_at(file, size - END.size, END.size)
    signature, _disk, _start_disk, _here, entries, directory_size, directory_at, comment = END.unpack(end)
    if signature != b"PK\x05\x06" or comment:
        raise LayoutError("the end record is not the file's last bytes (a comment, or bytes after it)")
    if directory_at != 0xFFFFFFFF and entries != 0xFFFF:
        if directory_at + directory_size != size - END.size:
            raise LayoutError("bytes between the directory and the end record")
        return directory_at, entries
    locator_at = size - END.size - ZIP64_LOCATOR.size
    locator = ZIP64_LOCATOR.unpack(_read_at(file, locator_at, ZIP64_LOCATOR.size))
    record_at = locator[2]
    if locator[0] != b"PK\x06\x07" or record_at != locator_at - ZIP64_END.size:
        raise LayoutError("the ZIP64 end records are not where they belong")
    record = ZIP64_END.unpack(_read_at(file, record_at, ZIP64_END.size))
    if record[0] != b"PK\x06\x06" or record[1] != ZIP64_END.size - 12:
        raise LayoutError("the ZIP64 end record is not one a station writes")
    entries64, directory_size64, directory_at64 = record[7], record[8], record[9]
    if directory_at64 + directory_size64 != record_at:
        raise LayoutError("bytes between the directory and the end records")
    return directory_at64, entries64


def _member_end(file: BinaryIO, member: zipfile.ZipInfo) -> int:
    """Where the member's data ends, once its local header is found to say what the directory says of it."""
    if member.compress_type != zipfile.ZIP_STORED:
        raise LayoutError(f"{member.filename}: compressed (a station stores every member as it is)")
    if member.flag_bits & ~ALLOWED_FLAGS:
        raise LayoutError(f"{member.filename}: flags {member.flag_bits:#x} (encrypted, or not written by a station)")
    header = LOCAL.unpack(_read_at(file, member.header_offset, LOCAL.size))
    signature, _version, flags, method, _time, _date, crc, packed, unpacked, name_length, extra_length = header
    name = _read_at(file, member.header_offset + LOCAL.size, name_length)
    extra = _read_at(file, member.header_offset + LOCAL.size + name_length, extra_length)
    if signature != b"PK\x03\x04" or name != member.orig_filename.encode("utf-8" if flags & 0x800 else "cp437"):
        raise LayoutError(f"{member.filename}: its local header names another member")
    if (flags, method) != (member.flag_bits, member.compress_type):
        raise LayoutError(f"{member.filename}: its local header differs from the directory")
    packed, unpacked = _sizes(packed, unpacked, extra)
    if (crc, packed, unpacked) != (member.CRC, member.compress_size, member.file_size):
        raise LayoutError(f"{member.filename}: its local header differs from the directory (CRC or size)")
    return member.header_offset + LOCAL.size + name_length + extra_length + member.compress_size


def _sizes(packed: int, unpacked: int, extra: bytes) -> tuple[int, int]:
    """The local header's sizes, from its ZIP64 extra field where they did not fit in 32 bits."""
    at = 0
    while at + 4 <= len(extra):
        kind, length = struct.unpack_from("<2H", extra, at)
        if kind == ZIP64_EXTRA and length >= 16:
            unpacked, packed = struct.unpack_from("<2Q", extra, at + 4)
        at += 4 + length
    return packed, unpacked


def _read_at(file: BinaryIO, at: int, size: int) -> bytes:
    if at < 0:
        raise LayoutError("shorter than its records say")
    file.seek(at)
    data = file.read(size)
    if len(data) != size:
        raise LayoutError("shorter than its records say")
    return data
