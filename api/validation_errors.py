"""422 answers that name what is wrong without echoing what was sent. FastAPI's own repeats each refused
value (`input`), and pydantic's ValidationError text does too (`input_value=...`); a body may carry a password
or a camera URL with its credentials: a misspelt field name would put the whole body, password included, into
the answer (and into whatever logs it on the way)."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError


def refuse_without_echo(app: FastAPI) -> None:
    """A request refused by its parameters, and a pydantic model refused inside a route (a ValueError, which
    would otherwise be a 400 with its text), answer 422 with each error's `type`, `loc` and `msg`."""
    app.add_exception_handler(RequestValidationError, _refused)
    app.add_exception_handler(ValidationError, _refused)


async def _refused(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError | ValidationError)
    errors = [{key: value for key, value in error.items() if key != "input"} for error in exc.errors()]
    return JSONResponse({"detail": jsonable_encoder(errors)}, status_code=422)
