"""How a process pool follows one child of the fork server: through a pidfd (Linux 5.3), which is readable once the
child has ended whoever its parent is by then, or, where the kernel or a container's seccomp profile refuses
pidfds, through `multiprocessing`'s sentinel. The sentinel is the fork server's pipe: it also closes when the server
dies (killed by hand, or for memory) and then reads as every child ended while they all still run."""

from __future__ import annotations

import contextlib
import logging
import multiprocessing.connection
import multiprocessing.process
import os
import signal
import threading

log = logging.getLogger(__name__)
_refusal_said = threading.Event()  # pidfds refused: said once per process


class ChildWatch:
    def __init__(self, process: multiprocessing.process.BaseProcess) -> None:
        assert process.pid is not None, "started"
        self.process, self.pid = process, process.pid
        self._pidfd: int | None = None
        try:
            self._pidfd = os.pidfd_open(self.pid)
        except ProcessLookupError:
            pass  # ended and reaped by the server already: its sentinel says so
        except OSError as exc:
            if not _refusal_said.is_set():
                _refusal_said.set()
                log.warning("pidfds refused (%s): children are followed through the fork server's pipe, which a "
                            "dead server would show as every child ended", exc)

    def fileno(self) -> int:
        """What `multiprocessing.connection.wait` waits on: readable once the child has ended."""
        return self._pidfd if self._pidfd is not None else self.process.sentinel

    def ended(self) -> bool:
        return self.wait(0)

    def wait(self, seconds: float) -> bool:
        return bool(multiprocessing.connection.wait([self.fileno()], timeout=seconds))

    def send(self, number: signal.Signals) -> None:
        with contextlib.suppress(ProcessLookupError):  # ended meanwhile
            if self._pidfd is not None:
                signal.pidfd_send_signal(self._pidfd, number)
            elif self.process.exitcode is None:
                os.kill(self.pid, number)

    def close(self) -> int | None:
        """Done with an ended child: its exit code. A child that outlived its fork server has this process as its
        parent when this process is the container's first (no init): it is reaped here, its code is then the real
        one; otherwise the server's report (255 when the server is gone)."""
        reaped = None
        if self._pidfd is not None:
            with contextlib.suppress(ChildProcessError):  # not this process's child: its server reaps it
                reaped = os.waitid(os.P_PIDFD, self._pidfd, os.WEXITED | os.WNOHANG)
            os.close(self._pidfd)
            self._pidfd = None
        self.process.join(1)
        if reaped is not None:
            return reaped.si_status if reaped.si_code == os.CLD_EXITED else -reaped.si_status
        return self.process.exitcode
