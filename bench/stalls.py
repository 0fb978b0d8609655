"""No request may stall the service: the figures of docs/reliability.md §5c, against `govbuy serve`.

- `import`: a crafted .xlsx whose shared-strings part holds millions of one-letter strings
  (129 KB for 3 000 000) imported into a draft catalogue while a client polls `/health` every
  20 ms: how long the import takes to answer, what it answers, and `/health`'s latency meanwhile.
- `freeze`: the embedded PostgreSQL stopped by SIGSTOP: how long a public read and a write take
  to answer and what they answer, what `/health` says, and that everything works after SIGCONT.
- `verify`: `GET /audit-events/verify` on a chain of N events (seeded in one COPY), cold (a full
  walk), again (from the checkpoint the first one stored), and `?full=true`; and three at once.

Run: `python -m bench.stalls import [--strings 3000000]`, `python -m bench.stalls freeze
[--seconds 45] [--deadline 10]`, `python -m bench.stalls verify [--events 100000]`.
The suite's bounded versions: tests/reliability/test_parsing.py, test_freeze.py and
tests/govbuy/test_audit_checkpoints.py.

Top layer (STYLE habit 14): seeds the kernel's audit table directly, set-based.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import statistics
import tempfile
import threading
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bench import harness

API = "/api/v1"
_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
_DOC_RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def crafted_xlsx(shared_strings: int) -> bytes:
    """A valid workbook whose one sheet holds one cell, and whose shared-strings table holds
    `shared_strings` entries `<si><t>a</t></si>`: tiny compressed, costly to load."""
    parts = {
        "[Content_Types].xml": (
            '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
            '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
            "</Types>"
        ),
        "_rels/.rels": (
            f'<?xml version="1.0"?><Relationships xmlns="{_RELS}"><Relationship Id="rId1" '
            f'Type="{_DOC_RELS}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
        ),
        "xl/workbook.xml": (
            f'<?xml version="1.0"?><workbook xmlns="{_MAIN}" xmlns:r="{_DOC_RELS}"><sheets>'
            '<sheet name="目录" sheetId="1" r:id="rId1"/></sheets></workbook>'
        ),
        "xl/_rels/workbook.xml.rels": (
            f'<?xml version="1.0"?><Relationships xmlns="{_RELS}">'
            f'<Relationship Id="rId1" Type="{_DOC_RELS}/worksheet" Target="worksheets/sheet1.xml"/>'
            f'<Relationship Id="rId2" Type="{_DOC_RELS}/sharedStrings" Target="sharedStrings.xml"/></Relationships>'
        ),
        "xl/worksheets/sheet1.xml": (
            f'<?xml version="1.0"?><worksheet xmlns="{_MAIN}"><sheetData>'
            '<row r="1"><c r="A1" t="s"><v>0</v></c></row></sheetData></worksheet>'
        ),
        "xl/sharedStrings.xml": f'<?xml version="1.0"?><sst xmlns="{_MAIN}">' + "<si><t>a</t></si>" * shared_strings + "</sst>",
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name, text in parts.items():
            archive.writestr(name, text)
    return out.getvalue()


NORMAL_CSV = "code,name,description\nA,基本公共服务,\nA01,养老服务,居家和社区养老\nA0101,居家养老上门服务,助餐助洁助医\n".encode()


@dataclass
class Poller:
    """Polls a path every `interval` seconds in a thread, recording each answer's latency."""

    base_url: str
    path: str = "/health"
    interval: float = 0.02
    latencies: list[float] = field(default_factory=list)
    bodies: list[dict] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)

    def _run(self) -> None:
        with httpx.Client(base_url=self.base_url, timeout=30) as client:
            while not self._stop.is_set():
                started = time.perf_counter()
                try:
                    body = client.get(self.path).json()
                except httpx.HTTPError as exc:
                    body = {"error": type(exc).__name__}
                self.latencies.append(time.perf_counter() - started)
                self.bodies.append(body)
                self._stop.wait(self.interval)

    def __enter__(self) -> Poller:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(35)

    def summary(self) -> str:
        ms = sorted(1000 * x for x in self.latencies)
        if not ms:
            return "no answers"
        p99 = ms[min(len(ms) - 1, int(len(ms) * 0.99))]
        return f"{len(ms)} polls, p50 {statistics.median(ms):.1f} ms, p99 {p99:.1f} ms, max {ms[-1]:.1f} ms"


@dataclass
class Answer:
    status: int
    code: str | None
    seconds: float
    retry_after: str | None = None


def timed(call) -> Answer:
    started = time.perf_counter()
    try:
        response = call()
    except httpx.HTTPError:
        return Answer(0, None, time.perf_counter() - started)
    seconds = time.perf_counter() - started
    is_problem = response.headers.get("content-type", "").startswith("application/problem+json")
    code = response.json().get("code") if is_problem else None
    return Answer(response.status_code, code, seconds, response.headers.get("retry-after"))


def new_catalogue(client: httpx.Client, bureau: harness.Account, year: int = 2026) -> dict:
    response = client.post(
        f"{API}/catalogues", headers=bureau.headers, json={"region_code": "440300", "year": year, "title": f"{year} 目录"}
    )
    response.raise_for_status()
    return response.json()


def import_file(client: httpx.Client, bureau: harness.Account, catalogue_id: str, name: str, content: bytes) -> httpx.Response:
    return client.post(
        f"{API}/catalogues/{catalogue_id}/import", headers=bureau.headers,
        files={"file": (name, content, "application/octet-stream")},
    )


def import_while_polled(server: harness.LiveServer, bureau: harness.Account, name: str, content: bytes) -> tuple[Answer, Poller]:
    """Import `content` into a new draft while /health is polled; the answer and the poller."""
    with server.client(timeout=120) as client:
        catalogue = new_catalogue(client, bureau)
        with Poller(server.base_url) as poller:
            time.sleep(0.2)
            answer = timed(lambda: import_file(client, bureau, catalogue["id"], name, content))
            time.sleep(0.2)
    return answer, poller


def run_import(strings: int) -> None:
    content = crafted_xlsx(strings)
    print(f"crafted workbook: {strings} shared strings, {len(content) / 1024:.0f} KB")
    with tempfile.TemporaryDirectory() as folder:
        server = harness.start_server(Path(folder))
        try:
            bureau = harness.accounts_for_every_role(server, roles=("bureau",))["bureau"]
            for attempt in ("first", "second"):
                answer, poller = import_while_polled(server, bureau, "crafted.xlsx", content)
                print(f"import ({attempt}): {answer.status} {answer.code} after {answer.seconds:.2f} s")
                print(f"/health during it: {poller.summary()}")
            normal, _ = import_while_polled(server, bureau, "catalogue.csv", NORMAL_CSV)
            print(f"a normal import: {normal.status} after {normal.seconds:.2f} s")
        finally:
            server.stop()
            harness.stop_embedded(Path(folder))


# --- a frozen database ---------------------------------------------------------------------------


@dataclass
class FreezeRun:
    public_read: Answer
    write: Answer
    health: list[dict]
    health_latencies: list[float]
    after_thaw: list[Answer]


def freeze_and_probe(server: harness.LiveServer, bureau: harness.Account, seconds: float) -> FreezeRun:
    """Freeze the server's embedded PostgreSQL for `seconds`; meanwhile a public read and a write
    (a new draft catalogue) in parallel, and /health polled; after the thaw, both again."""
    results: dict[str, Answer] = {}
    with httpx.Client(base_url=server.base_url, timeout=seconds + 60) as client:

        def call(kind: str, request) -> None:
            results[kind] = timed(request)

        harness.freeze_database(server.data_dir, True)
        try:
            with Poller(server.base_url, interval=0.5) as poller:
                threads = [
                    threading.Thread(target=call, args=("read", lambda: client.get(f"{API}/public/tenders"))),
                    threading.Thread(target=call, args=("write", lambda: client.post(
                        f"{API}/catalogues", headers=bureau.headers,
                        json={"region_code": "440300", "year": 2026, "title": "冻结期间的目录"}))),
                ]
                for thread in threads:
                    thread.start()
                time.sleep(seconds)
                for thread in threads:
                    thread.join(60)
        finally:
            harness.freeze_database(server.data_dir, False)
        after = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            read = timed(lambda: client.get(f"{API}/public/tenders"))
            write = timed(lambda: new_catalogue(client, bureau) and client.get("/ready"))
            after = [read, write]
            if read.status == 200 and write.status == 200:
                break
            time.sleep(0.5)
    return FreezeRun(results["read"], results["write"], poller.bodies, poller.latencies, after)


def run_freeze(seconds: float, deadline: float) -> None:
    with tempfile.TemporaryDirectory() as folder:
        server = harness.start_server(Path(folder), extra_env={"GOVBUY_REQUEST_DEADLINE_SECONDS": str(deadline)})
        try:
            bureau = harness.accounts_for_every_role(server, roles=("bureau",))["bureau"]
            run = freeze_and_probe(server, bureau, seconds)
            for kind, answer in (("public read", run.public_read), ("write", run.write)):
                print(f"{kind}: {answer.status} {answer.code} after {answer.seconds:.2f} s (Retry-After {answer.retry_after})")
            statuses = sorted({(b.get("status"), b.get("database")) for b in run.health})
            slowest = max(run.health_latencies) if run.health_latencies else 0
            print(f"/health during the freeze: {statuses}, slowest {slowest * 1000:.0f} ms")
            print("after the thaw: " + ", ".join(f"{a.status} in {a.seconds:.2f} s" for a in run.after_thaw))
        finally:
            server.stop()
            harness.stop_embedded(Path(folder))


# --- the audit chain -------------------------------------------------------------------------------


async def seed_audit_events(dsn: str, count: int) -> None:
    """Append `count` events to the chain in one COPY, each hashed by the kernel's own function."""
    import uuid
    from datetime import UTC, datetime, timedelta

    import asyncpg

    from govbuy import audit

    connection = await asyncpg.connect(dsn)
    try:
        prev = await connection.fetchval("SELECT hash FROM audit_events ORDER BY seq DESC LIMIT 1") or audit.GENESIS
        start = datetime.now(UTC)
        records = []
        for n in range(count):
            at = start + timedelta(microseconds=n)
            digest = audit.event_hash(
                prev_hash=prev, occurred_at=at, actor_user_id=None, organisation_id=None, action="bench.seeded",
                entity_type="bench", entity_id=str(n), before=None, after=None,
            )
            records.append((uuid.uuid4(), at, "system", "bench.seeded", "bench", str(n), prev, digest))
            prev = digest
        await connection.copy_records_to_table(
            "audit_events", records=records,
            columns=["id", "occurred_at", "actor_username", "action", "entity_type", "entity_id", "prev_hash", "hash"],
        )
    finally:
        await connection.close()


def run_verify(events: int) -> None:
    from govbuy import database as db

    with tempfile.TemporaryDirectory() as folder:
        server = harness.start_server(Path(folder))
        try:
            accounts = harness.accounts_for_every_role(server, roles=("supervisor",))
            dsn = db.with_database(_embedded_dsn(Path(folder)), "govbuy")
            started = time.perf_counter()
            asyncio.run(seed_audit_events(dsn, events))
            print(f"seeded {events} events in {time.perf_counter() - started:.1f} s")
            headers = accounts["supervisor"].headers
            with server.client(timeout=300) as client:
                for label, params in (("first (no checkpoint)", {}), ("again (from the checkpoint)", {}), ("full=true", {"full": "true"})):
                    answer = timed(lambda: client.get(f"{API}/audit-events/verify", headers=headers, params=params))
                    print(f"verify {label}: {answer.status} in {answer.seconds:.2f} s")
                results: list[Answer] = []
                threads = [
                    threading.Thread(target=lambda: results.append(timed(lambda: client.get(
                        f"{API}/audit-events/verify", headers=headers, params={"full": "true"}))))
                    for _ in range(3)
                ]
                with Poller(server.base_url) as poller:
                    for thread in threads:
                        thread.start()
                    for thread in threads:
                        thread.join(300)
                print("three full walks at once: " + ", ".join(f"{a.status} {a.code or ''} in {a.seconds:.2f} s" for a in results))
                print(f"/health meanwhile: {poller.summary()}")
        finally:
            server.stop()
            harness.stop_embedded(Path(folder))


def _embedded_dsn(data_dir: Path) -> str:
    return f"postgresql://postgres:@/postgres?host={harness.socket_dir(data_dir)}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="part", required=True)
    sub.add_parser("import").add_argument("--strings", type=int, default=3_000_000)
    freeze = sub.add_parser("freeze")
    freeze.add_argument("--seconds", type=float, default=45)
    freeze.add_argument("--deadline", type=float, default=10)
    sub.add_parser("verify").add_argument("--events", type=int, default=100_000)
    args = parser.parse_args()
    if args.part == "import":
        run_import(args.strings)
    elif args.part == "freeze":
        run_freeze(args.seconds, args.deadline)
    else:
        run_verify(args.events)


if __name__ == "__main__":
    main()
