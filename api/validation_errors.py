"""422 answers that name what is wrong without echoing what was sent. FastAPI's own repeats each refused
value (`input`), and a body may carry a password or a camera URL with its credentials: a misspelt field
name would put the whole body, password included, into the answer (and into whatever logs it on the way)."""

from __future__ import annotations

from fastapi import Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse


async def validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [{key: value for key, value in error.items() if key != "input"} for error in exc.errors()]
    return JSONResponse({"detail": jsonable_encoder(errors)}, status_code=422)
