"""Cases and reports: the cases issue adds its routes here (need-to-know by agency).

Use ``require(CASES_READ)`` / ``require(CASES_WRITE)`` from cvis.api.deps and
``cvis.api.scan_jobs.case_visible`` for the agency check; the audit middleware
records every request, and ``touch(request, obj, event)`` names what was touched.
"""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/cases", tags=["cases"])
