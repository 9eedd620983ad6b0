"""The station's Ed25519 key: made at the first start and kept in `data_dir/station-key.pem` (mode 0600).
Exports are signed with it; its public key (in every export and in `GET /api/station`) checks them."""

from __future__ import annotations

import base64
import hashlib
import logging
import os
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from nvr.write_once import write_once

log = logging.getLogger(__name__)
KEY_FILE = "station-key.pem"


class KeyFormatError(ValueError):
    pass


class StationKey:
    def __init__(self, private: Ed25519PrivateKey) -> None:
        self._private = private
        self.public = private.public_key()

    @classmethod
    def load_or_create(cls, data_dir: Path, name: str = KEY_FILE) -> StationKey:
        """The key `name` in `data_dir`, made there first if there is none (processes racing agree on one)."""
        path = data_dir / name
        if not path.exists():
            made = Ed25519PrivateKey.generate().private_bytes(serialization.Encoding.PEM,
                                                              serialization.PrivateFormat.PKCS8,
                                                              serialization.NoEncryption())
            if write_once(path, made):
                log.info("made the signing key %s", path)
        if path.stat().st_mode & 0o077:
            os.chmod(path, 0o600)  # a key copied in by hand with a lax mode
        private = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(private, Ed25519PrivateKey):
            raise KeyFormatError(f"{path} does not hold an Ed25519 private key")
        return cls(private)

    def sign(self, data: bytes) -> bytes:
        """The 64-byte Ed25519 signature of `data`."""
        return self._private.sign(data)


def public_raw(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def public_pem(key: Ed25519PublicKey) -> str:
    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def public_base64(key: Ed25519PublicKey) -> str:
    return base64.b64encode(public_raw(key)).decode()


def fingerprint(key: Ed25519PublicKey) -> str:
    """`sha256:` and the hex SHA-256 of the raw 32-byte public key: short enough to read out on the phone."""
    return "sha256:" + hashlib.sha256(public_raw(key)).hexdigest()


def load_public_key(text: str) -> Ed25519PublicKey:
    """A public key as PEM (SubjectPublicKeyInfo) or as the base64 of its 32 raw bytes (`GET /api/station`)."""
    text = text.strip()
    try:
        if text.startswith("-----BEGIN"):
            key = serialization.load_pem_public_key(text.encode())
        else:
            key = Ed25519PublicKey.from_public_bytes(base64.b64decode(text, validate=True))
    except ValueError as exc:
        raise KeyFormatError(f"not an Ed25519 public key: {exc}") from None
    if not isinstance(key, Ed25519PublicKey):
        raise KeyFormatError("not an Ed25519 public key")
    return key


def signature_holds(key: Ed25519PublicKey, signature: bytes, data: bytes) -> bool:
    try:
        key.verify(signature, data)
    except InvalidSignature:
        return False
    return True
