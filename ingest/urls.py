"""Camera URL handling: which kind of source a URL names, how RTSP is carried, and hiding its credentials."""

from __future__ import annotations

import re
import threading
from pathlib import Path
from typing import Literal
from urllib.parse import parse_qsl, quote, unquote, urlsplit

NETWORK_SCHEMES = frozenset({"rtsp", "rtsps"})
LOCAL_SCHEMES = frozenset({"file", "demo"})
SUPPORTED_SCHEMES = NETWORK_SCHEMES | LOCAL_SCHEMES
Transport = Literal["auto", "tcp", "udp"]  # how RTSP carries RTP: over its own connection (tcp), UDP, or tcp then udp

# scheme://user:password@ — the password (up to the last @ of the URL, since people type raw @ in
# passwords) is replaced wherever it appears in text.
_CREDENTIALS = re.compile(r"(?P<head>[a-zA-Z][a-zA-Z0-9+.-]*://[^:/@\s'\"]*):(?P<secret>[^\s'\"]*)@")
# ?token=... (the WebSocket's login, in access logs) and ?password=... (cameras that take it in the query)
_QUERY_SECRET_NAMES = ("token", "password", "passwd", "pass", "pwd")
_SECRET_NAME = "(?:" + "|".join(_QUERY_SECRET_NAMES) + ")"
# in free text a value ends where the text may go on (a space, a quote); in a URL at the next parameter only, since
# people type spaces, quotes and '#' in passwords (an audit: "?pwd=ab SpacePw2" was shown as "?pwd=*** SpacePw2")
_QUERY_SECRETS = re.compile(r"(?i)(?P<head>[?&;]" + _SECRET_NAME + r"=)[^&\s'\"#]+")
_QUERY_SECRETS_IN_URL = re.compile(r"(?i)(?P<head>[?&;]" + _SECRET_NAME + r"=)[^&;]*")
# a login in the path, as XMEye's DVRs take it: /user=admin_password=SECRET_channel=1_stream=0.sdp
_PATH_SECRETS = re.compile(r"(?i)(?P<head>[/_]" + _SECRET_NAME + r"=)(?P<secret>[^_/?&;\s'\"]*)")
# A station's machine keys (storage/machine_keys.py: "nvrk_" and 43 URL-safe characters), wherever they appear
_MACHINE_KEYS = re.compile(r"nvrk_[A-Za-z0-9_-]{20,}")
# Shorter passwords are left to the patterns above: replacing every "123" in every log line would hide
# camera names, times and addresses, and a secret that short is no secret.
MIN_REGISTERED_SECRET = 4


class _SecretRegistry:
    """The passwords and keys this process knows, as one pattern; replaced whole, never changed in place, so
    `redact_text` (any thread) reads it without a lock."""

    def __init__(self) -> None:
        self.secrets: frozenset[str] = frozenset()
        self.pattern: re.Pattern[str] | None = None  # every form, longest first: no partial leftovers
        self._lock = threading.Lock()

    def add(self, found: set[str]) -> None:
        if found <= self.secrets:
            return
        with self._lock:
            secrets = self.secrets | found
            self.pattern = re.compile("|".join(re.escape(s) for s in sorted(secrets, key=len, reverse=True)))
            self.secrets = secrets


_registry = _SecretRegistry()


def register_url_secrets(url: str) -> None:
    """Remember the password of a configured camera URL (and the forms it takes in FFmpeg's and Python's
    messages), so `redact_text` hides it in free text even where no pattern can tell where it ends:
    `rtsp://admin:pa ss'"w@...` quoted by an exception, or the password alone."""
    for secret in _url_secrets(url):
        register_secret(secret)


def register_secret(secret: str) -> None:
    """Remember a password or key of the configuration (a camera's, the MQTT broker's, a webhook's), in every
    form it takes when quoted, so `redact_text` hides it in any log line or error text."""
    _registry.add({form for form in _written_forms(secret) if len(form) >= MIN_REGISTERED_SECRET})


def _url_secrets(url: str) -> list[str]:
    _scheme, userinfo, address = _split_userinfo(url)
    secrets = []
    if userinfo is not None:
        user, has_password, password = userinfo.partition(":")
        secrets.append(password if has_password else user)
    path, _, query = address.partition("?")
    secrets += [value for name, value in parse_qsl(query) if name.lower() in _QUERY_SECRET_NAMES]
    secrets += [match.group("secret") for match in _PATH_SECRETS.finditer(path)]
    return secrets


def _written_forms(secret: str) -> set[str]:
    """The secret as typed in the URL, percent-decoded, and escaped as repr() and JSON quote it."""
    forms = set()
    for plain in {secret, unquote(secret)}:
        escaped = plain.replace("\\", "\\\\")
        forms |= {plain, escaped, escaped.replace("'", "\\'"), escaped.replace('"', '\\"'), repr(plain)[1:-1]}
    return forms


def redact_text(text: str) -> str:
    """Replace every URL password inside `text` with `***` (for logs, status and API output): the
    passwords of the configured cameras wherever they appear, `user:password@` in any URL, and
    `token=` / `password=` query values, machine keys."""
    if (registered := _registry.pattern) is not None:
        text = registered.sub("***", text)
    text = _MACHINE_KEYS.sub("nvrk_***", text)
    text = _CREDENTIALS.sub(lambda m: f"{m.group('head')}:***@", text)
    text = _PATH_SECRETS.sub(lambda m: f"{m.group('head')}***", text)
    return _QUERY_SECRETS.sub(lambda m: f"{m.group('head')}***", text)


def _split_userinfo(url: str) -> tuple[str, str | None, str]:
    """(scheme, userinfo or None, the rest); the userinfo ends at the URL's last '@', since people type
    raw '@' in passwords."""
    scheme, separator, rest = url.partition("://")
    if not separator or "@" not in rest:
        return scheme, None, rest
    userinfo, _, address = rest.rpartition("@")
    return scheme, userinfo, address


def redact_url(url: str) -> str:
    """The URL with its password hidden, whatever characters the password holds (spaces, quotes, '@', '/', '#'),
    the values of `password=`, `passwd=`, `pass=`, `pwd=`, `token=` in its query (cameras that take their login
    there) up to the next parameter, and a `_password=` in its path (XMEye's DVRs); the user name stays so the
    operator can tell accounts apart."""
    scheme, userinfo, address = _split_userinfo(url)
    if userinfo is not None:
        user, has_password, _secret = userinfo.partition(":")
        url = f"{scheme}://{user}:***@{address}" if has_password else f"{scheme}://***@{address}"
    scheme, separator, rest = url.partition("://")
    path, query_mark, query = rest.partition("?")
    url = scheme + separator + _PATH_SECRETS.sub(lambda m: f"{m.group('head')}***", path) + query_mark + query
    return _QUERY_SECRETS_IN_URL.sub(lambda m: f"{m.group('head')}***", url)


def with_credentials(url: str, user: str, password: str) -> str:
    """`url` logging in as `user` with `password` (percent-encoded, so any character is safe), in place of
    any credentials it held; unchanged without a user."""
    if not user:
        return url
    scheme, _userinfo, address = _split_userinfo(url)
    return f"{scheme}://{quote(user, safe='')}:{quote(password, safe='')}@{address}"


def file_path(url: str) -> Path:
    """The file a `file://` camera URL names (`file:///abs/x.mp4`; `file://rel/x.mp4` is relative)."""
    parts = urlsplit(url)
    return Path(unquote(parts.netloc + parts.path))


def _misread_login(url: str, authority: str) -> str | None:
    """Why the URL's login would be read with part of it taken for the camera's address, or None. A raw '@' in a
    password is fine (the login ends at the URL's last '@', for FFmpeg as for us), but '/' and '#' end the address
    part of any URL: `rtsp://admin:ab/cd@10.0.0.5/` is host `admin` for FFmpeg, and a camera looked for at a piece of
    its password puts that piece in the log. A login is taken to be there when the address part holds an '@', or
    when what comes before the URL's last '@' has a ':' (user:password) and no '?' (an '@' in a query is a value's).
    `authority`: the URL's address part as any URL parser reads it (urlsplit's netloc). Never quotes the login."""
    _scheme, userinfo, _address = _split_userinfo(url)
    if userinfo is None or "?" in userinfo:
        return None
    found = [character for character in "/#" if character in userinfo]
    if not found or not ("@" in authority or ":" in userinfo):
        return None
    marks = " and ".join(repr(c) for c in found)
    written = " and ".join(f"{character!r} as {quote(character, safe='')}" for character in found)
    return (f"{marks} before the URL's last '@' would end the camera's address there (a password holding "
            f"{marks} sends the camera to part of it): in a password write {written} (in an environment variable "
            "too); in a path, write '@' as %40")


def url_problem(url: str) -> str | None:
    """Why `url` cannot be used as a camera source, or None when it can."""
    if not url or url != url.strip():
        return "must be a non-empty URL without surrounding spaces"
    if not url.isprintable():  # spaces and quotes are welcome (in passwords, as typed); NUL, tabs, newlines not
        return "must not hold control characters (a NUL, a tab, a line break)"
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in SUPPORTED_SCHEMES:
        allowed = ", ".join(sorted(SUPPORTED_SCHEMES))
        return f"unsupported scheme {scheme or '(none)'!r}; use one of: {allowed}"
    if scheme in NETWORK_SCHEMES:
        if (misread := _misread_login(url, parts.netloc)) is not None:
            return misread
        try:
            port = parts.port
        except ValueError:
            return "port must be a number between 1 and 65535"
        if not parts.hostname:
            return "is missing the camera's host name or IP address"
        if any(character.isspace() for character in parts.hostname):
            return "the camera's host name must not hold spaces"
        if port == 0:
            return "port must be between 1 and 65535"
    elif scheme == "file" and not (parts.path or parts.netloc):
        return "file:// URL is missing the file path"
    elif scheme == "demo" and not parts.netloc:
        return "demo:// URL is missing the scene name (e.g. demo://alley)"
    return None
