"""A recorder process starts with what recording needs: not WebRTC, not the migrations (design/runtime.md)."""

from __future__ import annotations

import subprocess
import sys

LOADED = "import sys, nvr.runtime.recorder_process; print(' '.join(sorted({m.split('.')[0] for m in sys.modules})))"


def test_a_recorder_process_imports_neither_webrtc_nor_alembic() -> None:
    top_level = subprocess.run([sys.executable, "-c", LOADED], capture_output=True, text=True, check=True,
                               timeout=60).stdout.split()
    assert "av" in top_level and "sqlalchemy" in top_level, "what a recorder does need is there"
    assert "aiortc" not in top_level and "alembic" not in top_level
