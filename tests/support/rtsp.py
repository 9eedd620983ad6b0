"""Run the GStreamer RTSP test camera server (rtsp_server_main.py) as a child process."""

from __future__ import annotations

import os
import selectors
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import IO, Self

SYSTEM_PYTHON = "/usr/bin/python3"  # Debian's python, which has gi + GstRtspServer
SCRIPT = Path(__file__).with_name("rtsp_server_main.py")
HOST = "127.0.0.1"


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that is free right now."""
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def log_tail(log: IO[bytes], limit: int = 4000) -> str:
    """Last `limit` bytes of a child's log file, decoded."""
    log.flush()
    log.seek(0, os.SEEK_END)
    log.seek(max(0, log.tell() - limit))
    return log.read().decode(errors="replace")


class RtspServer:
    """Live H.264 RTSP cameras at rtsp://127.0.0.1:<port>/<mount>; restartable on the same port."""

    def __init__(
        self,
        mounts: list[str],
        port: int | None = None,
        *,
        width: int = 320,
        height: int = 240,
        fps: int = 15,
        gop: int = 15,
        user: str | None = None,
        password: str | None = None,
        files: dict[str, Path] | None = None,
        clock_offset: float | None = None,
        udp_only: bool = False,
        codec: str = "h264",
        audio: dict[str, str] | None = None,
    ) -> None:
        """`clock_offset`: seconds the cameras' RTCP sender reports are off the real time; `udp_only`: RTP
        over UDP only, as some cameras send it; `audio`: mount -> "aac", "pcma" or "pcmu", a microphone."""
        self.mounts = list(mounts) + list(files or {})
        self.port = port if port is not None else free_port()
        self.user = user
        self.password = password
        self._args = [
            SYSTEM_PYTHON, str(SCRIPT), "--port", str(self.port), "--codec", codec,
            "--width", str(width), "--height", str(height), "--fps", str(fps), "--gop", str(gop),
        ]
        for m in mounts:
            self._args += ["--mount", m]
        for name, path in (files or {}).items():
            self._args += ["--file", f"{name}={path}"]
        if user is not None:
            self._args += ["--user", user]
        if password is not None:
            self._args += ["--password", password]
        if clock_offset is not None:
            self._args += ["--clock-offset", str(clock_offset)]
        if udp_only:
            self._args.append("--udp-only")
        for name, codec in (audio or {}).items():
            self._args += ["--audio", f"{name}={codec}"]
        self._proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def running(self) -> bool:
        """True while the server process is alive."""
        return self._proc is not None and self._proc.poll() is None

    def url(self, mount: str, *, user: str | None = None, password: str | None = None) -> str:
        """rtsp:// URL of a mount, with credentials if given."""
        cred = f"{user}:{password or ''}@" if user is not None else ""
        return f"rtsp://{cred}{HOST}:{self.port}/{mount.strip('/')}"

    def start(self, timeout: float = 10.0) -> None:
        """Spawn the server and wait until it printed READY and accepts TCP connections."""
        if self.running:
            raise RuntimeError("RTSP server already running")
        # closed with the server (_end), not here: the log outlives this method
        self._log = tempfile.TemporaryFile(prefix="rtsp-server-", suffix=".log")  # noqa: SIM115
        self._proc = subprocess.Popen(self._args, stdout=subprocess.PIPE, stderr=self._log, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        try:
            self._wait_ready(deadline)
            self._wait_port(deadline)
        except Exception:
            tail = log_tail(self._log)
            self.kill()
            raise RuntimeError(f"RTSP server on port {self.port} failed to start; log tail:\n{tail}") from None

    def _wait_ready(self, deadline: float) -> None:
        """Block until the child prints READY on stdout."""
        assert self._proc is not None and self._proc.stdout is not None
        with selectors.DefaultSelector() as sel:
            sel.register(self._proc.stdout, selectors.EVENT_READ)
            while (left := deadline - time.monotonic()) > 0:
                if sel.select(left):
                    line = self._proc.stdout.readline()
                    if line.strip() == b"READY":
                        return
                    if not line:
                        raise RuntimeError(f"exited with code {self._proc.wait()}")
        raise TimeoutError("no READY")

    def _wait_port(self, deadline: float) -> None:
        """Block until the RTSP port accepts a TCP connection."""
        while True:
            try:
                socket.create_connection((HOST, self.port), timeout=0.5).close()
                return
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def stop(self, timeout: float = 5.0) -> None:
        """SIGTERM the server and wait for it (SIGKILL if it hangs)."""
        self._end(signal.SIGTERM, timeout)

    def kill(self) -> None:
        """SIGKILL the server: a camera vanishing abruptly."""
        self._end(signal.SIGKILL, 5.0)

    def freeze(self) -> None:
        """SIGSTOP the server: a camera that hangs with its connections open."""
        assert self._proc is not None
        self._proc.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        """SIGCONT a frozen server."""
        assert self._proc is not None
        self._proc.send_signal(signal.SIGCONT)

    def _end(self, sig: signal.Signals, timeout: float) -> None:
        """Signal the child, wait for it, release its pipe and log; safe to call twice."""
        proc, log, self._proc, self._log = self._proc, self._log, None, None
        if proc is not None:
            if proc.poll() is None:
                proc.send_signal(sig)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            if proc.stdout is not None:
                proc.stdout.close()
        if log is not None:
            log.close()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
