"""Vendor endpoints: the vendor's standing, assessment grades, credit-list entries, rating."""

from __future__ import annotations

from uuid import UUID

from litestar import Controller, Request, Response, get, post, put
from litestar.params import FromPath, JSONBody

from govbuy.auth import any_signed_in, requires
from govbuy.http import Cursor, Limit, with_etag
from govbuy.pagination import Page
from vendors import service
from vendors.schemas import (
    LegalExclusionLift,
    LegalExclusionRead,
    LegalExclusionWrite,
    AssessmentGradeCreate,
    AssessmentGradeRead,
    CreditListEntryCreate,
    CreditListEntryRead,
    CreditListEntryRemove,
    CreditRatingRead,
    VendorRead,
    VendorSummary,
)


class VendorController(Controller):
    path = "/api/v1/vendors"
    tags = ["vendors"]
    guards = [any_signed_in]

    @get("/")
    async def list(self, limit: Limit = None, cursor: Cursor = None) -> Page[VendorSummary]:
        """Vendors by name, with credit grade and whether they are on a credit list today."""
        return await service.list_vendors(limit, cursor)

    @get("/{vendor_id:uuid}")
    async def read(self, vendor_id: FromPath[UUID]) -> VendorRead:
        """A vendor's standing: type, current assessment grade (or that it expired), active
        credit-list entries, whether it may bid today and why not, and its credit rating."""
        return await service.get_vendor(vendor_id)

    @post("/{vendor_id:uuid}/assessment-grades", guards=[requires("admin")])
    async def record_grade(
        self, request: Request, vendor_id: FromPath[UUID], data: JSONBody[AssessmentGradeCreate]
    ) -> AssessmentGradeRead:
        """Record an assessment grade (1A–5A) awarded by civil affairs; valid 5 years."""
        return await service.record_assessment_grade(request.user, vendor_id, data)

    @get("/{vendor_id:uuid}/assessment-grades")
    async def grades(self, vendor_id: FromPath[UUID], limit: Limit = None, cursor: Cursor = None) -> Page[AssessmentGradeRead]:
        """Every grade ever awarded, newest first (history is never overwritten)."""
        return await service.list_assessment_grades(vendor_id, limit, cursor)

    @post("/{vendor_id:uuid}/credit-list-entries", guards=[requires("admin")])
    async def add_entry(
        self, request: Request, vendor_id: FromPath[UUID], data: JSONBody[CreditListEntryCreate]
    ) -> CreditListEntryRead:
        """Record an entry on a credit list; an active entry bars the vendor from bidding."""
        return await service.add_credit_list_entry(request.user, vendor_id, data)

    @get("/{vendor_id:uuid}/credit-list-entries")
    async def entries(
        self, vendor_id: FromPath[UUID], limit: Limit = None, cursor: Cursor = None
    ) -> Page[CreditListEntryRead]:
        """Every credit-list entry, active and removed, newest first."""
        return await service.list_credit_list_entries(vendor_id, limit, cursor)

    @post("/{vendor_id:uuid}/credit-list-entries/{entry_id:uuid}/remove", guards=[requires("admin")], status_code=200)
    async def remove_entry(
        self,
        request: Request,
        vendor_id: FromPath[UUID],
        entry_id: FromPath[UUID],
        data: JSONBody[CreditListEntryRemove],
    ) -> Response[CreditListEntryRead]:
        """Record an entry's removal (the entry is kept as history)."""
        entry = await service.remove_credit_list_entry(
            request.user, vendor_id, entry_id, data, request.headers.get("if-match")
        )
        return with_etag(entry)

    @put("/{vendor_id:uuid}/legal-exclusion", guards=[requires("admin")])
    async def record_exclusion(
        self, request: Request, vendor_id: FromPath[UUID], data: JSONBody[LegalExclusionWrite]
    ) -> LegalExclusionRead:
        """Record that the organisation is excluded by 102号令 Art. 8 (公益一类事业单位, or a 群团组织
        on 事业编制 funded by the budget), with the source: its bids are refused
        (`vendor_excluded_by_law`) and found ineligible at opening."""
        return await service.record_legal_exclusion(request.user, vendor_id, data)

    @post("/{vendor_id:uuid}/legal-exclusion/lift", guards=[requires("admin")], status_code=204)
    async def lift_exclusion(self, request: Request, vendor_id: FromPath[UUID], data: JSONBody[LegalExclusionLift]) -> None:
        """Lift a recorded exclusion, with the reason (kept in the audit log)."""
        await service.lift_legal_exclusion(request.user, vendor_id, data)

    @get("/{vendor_id:uuid}/credit-rating")
    async def rating(self, request: Request, vendor_id: FromPath[UUID]) -> CreditRatingRead:
        """The current credit rating, each component explained, with its inputs and rules version:
        for the vendor itself, bureaus, supervisors and admins (others: the grade at /public/vendors)."""
        return await service.get_rating(vendor_id, request.user)

    @get("/{vendor_id:uuid}/credit-rating/history")
    async def rating_history(
        self, request: Request, vendor_id: FromPath[UUID], limit: Limit = None, cursor: Cursor = None
    ) -> Page[CreditRatingRead]:
        """Past ratings, newest first: a new one is stored only when an input or the rules changed."""
        return await service.rating_history(vendor_id, limit, cursor, request.user)
