"""Logging set-up: one format, and secrets removed from every record, whoever logs it: camera passwords
(ingest.urls.redact_text), also in tracebacks, and `?token=` / `?password=` query values, which uvicorn's
access log and its WebSocket lines write with the request's path."""

from __future__ import annotations

import logging

from ingest.urls import redact_text

_TRACEBACKS = logging.Formatter()


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = redact_text(message)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info and not record.exc_text:  # the formatter uses exc_text when it is set
            record.exc_text = _TRACEBACKS.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact_text(record.exc_text)
        if record.stack_info:
            record.stack_info = redact_text(record.stack_info)
        return True


REDACTING_FILTER = RedactingFilter()
# uvicorn writes the request's path with its query string (`GET /api/events/ws?token=...`): its loggers
# redact their own records too, before any handler (also one added later, beside ours) sees them.
URL_LOGGERS = ("uvicorn.access", "uvicorn.error")


def setup_logging(level: str = "INFO", line: str = "%(asctime)s %(levelname)s %(name)s: %(message)s") -> None:
    """Log to stderr, every line redacted (`line`: the format of a line)."""
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter(line))
    handler.addFilter(REDACTING_FILTER)
    for name in URL_LOGGERS:
        logging.getLogger(name).addFilter(REDACTING_FILTER)  # once: addFilter skips a filter it holds
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    logging.getLogger("libav").setLevel(logging.ERROR)
    logging.getLogger("aioice").setLevel(logging.WARNING)
    logging.getLogger("aiortc").setLevel(logging.WARNING)
