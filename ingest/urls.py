"""Camera URL handling: which kind of source a URL names, and hiding its credentials."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

NETWORK_SCHEMES = frozenset({"rtsp", "rtsps"})
LOCAL_SCHEMES = frozenset({"file", "demo"})
SUPPORTED_SCHEMES = NETWORK_SCHEMES | LOCAL_SCHEMES

# scheme://user:password@ — the password (up to the last @ of the URL, since people type raw @ in
# passwords) is replaced wherever it appears in text.
_CREDENTIALS = re.compile(r"(?P<head>[a-zA-Z][a-zA-Z0-9+.-]*://[^:/@\s'\"]*):(?P<secret>[^\s'\"]*)@")


def redact_text(text: str) -> str:
    """Replace every URL password inside `text` with `***` (for logs, status and API output)."""
    return _CREDENTIALS.sub(lambda m: f"{m.group('head')}:***@", text)


def redact_url(url: str) -> str:
    """The URL with its password hidden, whatever characters the password holds (spaces, quotes, '@', '/');
    the user name stays so the operator can tell accounts apart."""
    scheme, separator, rest = url.partition("://")
    if not separator or "@" not in rest:
        return url
    userinfo, _, address = rest.rpartition("@")  # the last '@': people type raw '@' in passwords
    user, has_password, _secret = userinfo.partition(":")
    return f"{scheme}://{user}:***@{address}" if has_password else f"{scheme}://***@{address}"


def url_problem(url: str) -> str | None:
    """Why `url` cannot be used as a camera source, or None when it can."""
    if not url or url != url.strip():
        return "must be a non-empty URL without surrounding spaces"
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in SUPPORTED_SCHEMES:
        allowed = ", ".join(sorted(SUPPORTED_SCHEMES))
        return f"unsupported scheme {scheme or '(none)'!r}; use one of: {allowed}"
    if scheme in NETWORK_SCHEMES:
        try:
            port = parts.port
        except ValueError:
            return "port must be a number between 0 and 65535"
        if not parts.hostname:
            return "is missing the camera's host name or IP address"
        if port == 0:
            return "port must be between 1 and 65535"
    elif scheme == "file" and not (parts.path or parts.netloc):
        return "file:// URL is missing the file path"
    elif scheme == "demo" and not parts.netloc:
        return "demo:// URL is missing the scene name (e.g. demo://alley)"
    return None
