"""A case's signed export (nvr/evidence): built in the background, one at a time, with its progress.

`GET /api/cases/{id}/export.zip` is the one call a client needs: 200 with the ZIP once it is built for
the case as it is now; otherwise the build is started (or already under way) and the answer is 202 with
its progress, to ask again; 409 with the reason when the export was refused (a segment changed since it
was recorded) until `POST .../export` tries again.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse, JSONResponse

from api.routes_cases import CaseId, Staff, StationDep, audit, existing_case, export_json

router = APIRouter(prefix="/api/cases")


@router.post("/{case_id}/export", status_code=202)
def start_export(case_id: CaseId, request: Request, staff: Staff, station: StationDep) -> dict[str, Any]:
    """Build the export anew (an export of the same content under way is kept); 202 with its state."""
    case = existing_case(station, case_id)
    job = station.exports.start(case, staff.username)
    audit(station, request, staff, "case_export", f"case {case_id} {case.title!r}")
    return export_json(job, case_id, station.config.zone)


@router.get("/{case_id}/export")
def export_state(case_id: CaseId, staff: Staff, station: StationDep) -> dict[str, Any]:
    """The state of the case's export: `none`, `queued`, `running` (`progress` 0..1), `ready` or `failed`."""
    case = existing_case(station, case_id)
    return export_json(station.exports.current(case), case_id, station.config.zone)


@router.get("/{case_id}/export.zip", response_model=None,
            responses={200: {"content": {"application/zip": {}}}, 202: {"description": "being built: its state"},
                       409: {"description": "the export was refused"}})
def download_export(case_id: CaseId, request: Request, staff: Staff,
                    station: StationDep) -> FileResponse | JSONResponse:
    """The signed ZIP when it is built; else 202 and the state of its build (started by this call if needed)."""
    case = existing_case(station, case_id)
    job = station.exports.current(case)
    if job is None:
        job = station.exports.start(case, staff.username)
        audit(station, request, staff, "case_export", f"case {case_id} {case.title!r}")
    # the build's thread moves the job on meanwhile: its state is read once (a 202 once said "ready")
    answer = export_json(job, case_id, station.config.zone)
    if answer["state"] == "failed":
        raise HTTPException(409, f"the export of case {case_id} was refused: {answer['error']}")
    if answer["state"] == "ready":
        audit(station, request, staff, "case_export_download", f"case {case_id} {case.title!r}")
        return FileResponse(job.path, media_type="application/zip", filename=f"case-{case_id}.zip")
    return JSONResponse(answer, status_code=202)
