"""The district's case routes in one router (what nvr/district/app.py includes)."""

from fastapi import APIRouter

from nvr.district import case_export, cases

router = APIRouter()
router.include_router(cases.router)
router.include_router(case_export.router)
router.include_router(case_export.key_router)
