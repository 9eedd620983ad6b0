"""A district case's signed export (nvr/district/export.py), the calls of a post's
(api/routes_case_export.py): built in the district's export thread, one at a time, with its progress;
`GET .../export.zip` gives it when built, else starts it and answers 202; 409 with the reason when it
failed (a post down or refusing) until `POST .../export` tries again."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import FileResponse, JSONResponse

from api.routes_cases import CaseId, export_json
from nvr.district.access import DistrictUser, district_user
from nvr.district.cases import Cases, Staff, audit, existing_case
from nvr.evidence.signing import fingerprint, public_base64, public_pem

router = APIRouter(prefix="/api/cases")
key_router = APIRouter()


@key_router.get("/api/district")
async def district_key(cases: Cases, _user: Annotated[DistrictUser, Depends(district_user)]) -> dict[str, Any]:
    """The district's public key, which checks its exports (`nvr verify --key`), as a post's GET /api/station."""
    key = cases.key.public
    return {"timezone": cases.district.config.timezone, "public_key": public_base64(key),
            "public_key_pem": public_pem(key), "key_fingerprint": fingerprint(key)}


@router.post("/{case_id}/export", status_code=202)
async def start_export(case_id: CaseId, request: Request, staff: Staff, cases: Cases) -> dict[str, Any]:
    """Build the export anew (an export of the same content under way is kept); 202 with its state."""
    case = await existing_case(cases, case_id)
    job = cases.exports.start(case, staff.username)
    await audit(cases, request, staff, "case_export", f"case {case_id} {case.title!r}")
    return export_json(job, case_id, cases.district.zone)


@router.get("/{case_id}/export")
async def export_state(case_id: CaseId, staff: Staff, cases: Cases) -> dict[str, Any]:
    """`none`, `queued`, `running` (`progress` 0..1), `ready` or `failed` (`error` names the post and why)."""
    case = await existing_case(cases, case_id)
    return export_json(await asyncio.to_thread(cases.exports.current, case), case_id, cases.district.zone)


@router.get("/{case_id}/export.zip", response_model=None,
            responses={200: {"content": {"application/zip": {}}}, 202: {"description": "being built: its state"},
                       409: {"description": "the export failed"}})
async def download_export(case_id: CaseId, request: Request, staff: Staff,
                          cases: Cases) -> FileResponse | JSONResponse:
    """The district's signed ZIP when it is built; else 202 and the state of its build (started if needed)."""
    case = await existing_case(cases, case_id)
    job = await asyncio.to_thread(cases.exports.current, case)
    if job is None:
        job = cases.exports.start(case, staff.username)
        await audit(cases, request, staff, "case_export", f"case {case_id} {case.title!r}")
    answer = export_json(job, case_id, cases.district.zone)  # one reading of a state the build moves on
    if answer["state"] == "failed":
        raise HTTPException(409, f"the export of case {case_id} failed: {answer['error']}")
    if answer["state"] == "ready":
        await audit(cases, request, staff, "case_export_download", f"case {case_id} {case.title!r}")
        return FileResponse(job.path, media_type="application/zip", filename=f"district-case-{case_id}.zip")
    return JSONResponse(answer, status_code=202)
