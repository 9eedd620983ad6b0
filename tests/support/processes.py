"""The processes of a running station as the tests and benchmarks see them, from /proc."""

from __future__ import annotations

import os
from pathlib import Path


def stat_fields(pid: int) -> list[str] | None:
    """Fields of /proc/<pid>/stat after the command name (field 3 onwards), or None once it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2:].split()


def descendants(root: int) -> list[int]:
    """`root` and every process below it."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (fields := stat_fields(int(entry.name))) is not None:
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def listening_pid(pids: list[int], port: int) -> int | None:
    """Which of `pids` holds the listening TCP socket on 127.0.0.1:`port` (the station process)."""
    wanted = f"0100007F:{port:04X}"
    inodes = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        parts = line.split()
        if parts[1] == wanted and parts[3] == "0A":  # 0A: LISTEN
            inodes.add(f"socket:[{parts[9]}]")
    for pid in pids:
        try:
            fds = list(Path(f"/proc/{pid}/fd").iterdir())
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink(fd) in inodes:
                    return pid
            except OSError:
                continue
    return None


def process_name(pid: int) -> str:
    """The name `pid` runs under (/proc/PID/comm: the station's children name themselves after their role,
    `nvr-recorder-0`, `nvr-station`, `nvr-detector`), or "" once it is gone."""
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


def running(pid: int) -> bool:
    """Whether `pid` still runs (a process that has ended but is not reaped yet does not)."""
    fields = stat_fields(pid)
    return fields is not None and fields[0] not in ("Z", "X")


def running_named(name: str) -> list[int]:
    """Every running process named `name`, on the whole machine."""
    return [int(entry.name) for entry in Path("/proc").iterdir()
            if entry.name.isdigit() and process_name(int(entry.name)) == name and running(int(entry.name))]


def parent_of(pid: int) -> int:
    """The pid of `pid`'s parent (a station child's: its fork server)."""
    fields = stat_fields(pid)
    assert fields is not None, f"{pid} runs"
    return int(fields[1])
