"""Render one sample of each PDF report into docs/samples/ from demo-like data.

    .venv/bin/python scripts/make_samples.py [--out docs/samples] [--year 2025]

The data is a district civil-affairs bureau's budget year (bench/report_data.py) in a scratch
database on the configured server (DATABASE_URL, else the embedded one), dropped afterwards.
The reports are rendered by the same functions the API calls, as an admin, so the samples are
exactly what the endpoints serve for that data; the same seed gives the same PDFs.

Top layer (STYLE habit 14): reads any domain's tables directly, set-based.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from datetime import date
from pathlib import Path
from uuid import UUID

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SAMPLES = ("credit-report.pdf", "award-notice.pdf", "evaluation-report.pdf", "contract-report.pdf", "annual-report.pdf")


async def _scratch_database(name: str) -> str:
    from govbuy import database as db
    from govbuy.settings import get_settings

    dsn = db.with_database(db.resolve_dsn(get_settings()), name)
    await db.drop_database(dsn)
    await db.ensure_database(dsn)
    db.configure(dsn)
    await db.start_pool(1, 4)
    await db.migrate()
    return dsn


async def _admin() -> object:
    """A platform admin to read every report as (DESIGN §1: admins read everything)."""
    from uuid import uuid4

    from govbuy import database as db
    from govbuy.audit import Actor

    org, user = uuid4(), uuid4()
    await db.execute("INSERT INTO organisations (id, name, kind) VALUES ($1, '政府购买服务管理平台', 'platform')", org)
    await db.execute(
        "INSERT INTO users (id, username, password_hash, organisation_id, role) VALUES ($1, 'samples-admin', '!', $2, 'admin')",
        user, org,
    )
    return Actor(user, "samples-admin", "admin", org, "platform")


async def _civil_affairs_record(admin, vendor_id: UUID) -> None:
    """An assessment grade and a credit-list entry since removed, recorded as an admin does;
    each recomputes the vendor's credit rating from its contracts and evaluations."""
    from govbuy import clock
    from vendors import service
    from vendors.schemas import AssessmentGradeCreate, CreditListEntryCreate, CreditListEntryRemove

    year = (await clock.today()).year
    await service.record_assessment_grade(
        admin, vendor_id, AssessmentGradeCreate(grade="4A", awarded_on=date(year - 2, 9, 1), note="市民政局评定")
    )
    entry = await service.add_credit_list_entry(
        admin, vendor_id,
        CreditListEntryCreate(list="abnormal", reason="未按时报送年度工作报告", listed_on=date(year - 1, 7, 1)),
    )
    await service.remove_credit_list_entry(
        admin, vendor_id, entry.id,
        CreditListEntryRemove(removed_on=date(year - 1, 9, 10), reason="已补报年度工作报告，经核实移出"), None,
    )


async def make_samples(out: Path, year: int) -> list[tuple[str, int, int]]:
    from bench import report_data
    from contracts import reports as contract_reports
    from evaluation import reports as evaluation_reports
    from govbuy import database as db
    from govbuy.reports import shutdown_renderer
    from procurement import reports as procurement_reports
    from vendors import reports as vendor_reports

    await _scratch_database(f"govbuy_samples_{os.getpid()}")
    try:
        admin = await _admin()
        world = await report_data.report_world(year, seed=2025)
        contract_ids = await report_data.add_contracts(world, 60, terminate_every=25)
        tender_id = await report_data.add_awarded_tender(world, awarded_on=date(year, 6, 16))
        # The sample contract: a completed one whose milestones were all paid, some in part, one
        # delivered late if any was; the sample evaluation: its first accepted one.
        contract_id = await db.fetchval(
            """SELECT c.id FROM contracts c WHERE c.id = ANY($1) AND c.status = 'completed'
                 AND NOT EXISTS (SELECT 1 FROM payments p WHERE p.contract_id = c.id AND p.amount = 0)
                 AND EXISTS (SELECT 1 FROM payments p WHERE p.contract_id = c.id AND p.withheld_amount > 0)
               ORDER BY EXISTS (SELECT 1 FROM milestones m WHERE m.contract_id = c.id
                                  AND (m.delivered_at AT TIME ZONE 'Asia/Shanghai')::date > m.due_date) DESC,
                        c.start_date, c.id
               LIMIT 1""",
            contract_ids,
        )
        evaluation = await report_data.first_evaluation(contract_id)
        vendor_id = await db.fetchval("SELECT vendor_id FROM contracts WHERE id = $1", contract_id)
        await _civil_affairs_record(admin, vendor_id)

        rendered = {
            "credit-report.pdf": await vendor_reports.credit_report(admin, vendor_id),
            "award-notice.pdf": await procurement_reports.award_notice(None, tender_id),
            "evaluation-report.pdf": await evaluation_reports.evaluation_report(admin, evaluation["id"]),
            "contract-report.pdf": await contract_reports.contract_report(admin, contract_id),
            "annual-report.pdf": await contract_reports.annual_report(admin, year, world.bureau_id),
        }
        out.mkdir(parents=True, exist_ok=True)
        written = []
        for name in SAMPLES:
            pdf = rendered[name]
            (out / name).write_bytes(pdf.content)
            written.append((name, pdf.page_count, len(pdf.content)))
        return written
    finally:
        shutdown_renderer()
        await db.close_pool()
        await db.drop_database(db.DB.config["dsn"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "samples")
    parser.add_argument("--year", type=int, default=2025, help="the budget year of the sample data")
    args = parser.parse_args()
    for name, pages, size in asyncio.run(make_samples(args.out, args.year)):
        print(f"{args.out / name}: {pages} pages, {size / 1024:.0f} KiB")


if __name__ == "__main__":
    main()
