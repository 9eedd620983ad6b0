"""`nvr verify EXPORT.zip [--key PUBLIC_KEY]`: check a case export's signature and every file's hash."""

from __future__ import annotations

import sys
from pathlib import Path

from nvr.evidence.signing import KeyFormatError, load_public_key
from nvr.evidence.verify import verify_export


def run_verify(export: Path, key: str | None) -> int:
    """0 and `ok` when everything holds (and, for a district's export, a line per post's export inside); 1 and
    the first failing file or signature; 2 for an unusable key. `key`: a file holding the station's (or the
    district's) public key (PEM, or base64 as `GET /api/station` gives it), or the
    base64 itself."""
    public = None
    if key is not None:
        try:
            public = load_public_key(Path(key).read_text(encoding="utf-8") if Path(key).is_file() else key)
        except UnicodeDecodeError:  # an export or another binary file given as the key
            print(f"--key: {key} is not a public key: give the PEM file or its base64 (GET /api/station)",
                  file=sys.stderr)
            return 2
        except (KeyFormatError, OSError) as exc:
            print(f"--key: {exc}", file=sys.stderr)
            return 2
    verdict = verify_export(export, public)
    if not verdict.ok:
        print(f"FAILED {verdict.failure}")
        return 1
    print("ok")
    signer = f"station {verdict.station}" if verdict.station is not None else "the district"
    source = f"the key inside the export: compare its fingerprint with {signer}'s, or pass --key" \
        if verdict.key_from_export else "the key given"
    print(f"signed by {signer} with key {verdict.fingerprint} ({source})", file=sys.stderr)
    for inner in verdict.stations:  # a district's export: each post's, checked with the key the district recorded
        print(f"station {inner.station}: ok, signed with key {inner.fingerprint}")
    return 0
