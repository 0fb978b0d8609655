"""CPU-heavy work on untrusted input, off the event loop and under caps.

What parsing an upload costs is what its content makes it cost: a 129 KB .xlsx holding
3 000 000 shared strings took 25.8 s of CPU and, on the event loop, stopped every request for
as long, `/health` too. So every such step — reading a spreadsheet or a CSV, judging a
document's type by its bytes — goes through `run`, which calls a function in a child process
of its own:

- forked from multiprocessing's fork server, so the child starts in milliseconds and inherits
  nothing of the service (no event loop, threads, sockets, database connections);
- killed when it runs past `parse_timeout_seconds` (a thread cannot be interrupted; a process
  can), which answers `<subject>_timeout`;
- held to `parse_memory_bytes` above what it starts with (RLIMIT_AS): past it allocation fails
  and the call answers `<subject>_too_complex` rather than the host swapping;
- at most `parse_workers` at a time in a server process; the others wait their turn (within
  their request's deadline).

The function must be importable by name (it is pickled by reference), take and return
picklable values, and do no I/O. A `RuleViolation` it raises reaches the caller as raised; any
other exception is a bug and becomes a RuntimeError (500). Both caps answer 413, the status of
content larger than the server is willing to process (RFC 9110 §15.5.14).
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import resource
import signal
import sys
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any, TypeVar

from govbuy.rules import RuleViolation
from govbuy.settings import get_settings

T = TypeVar("T")

# Imported once by the fork server, so that a child does not import them itself.
PRELOAD = ["govbuy.offload", "govbuy.rules", "openpyxl", "filetype"]
# How long a killed child gets to be reaped.
_REAP_SECONDS = 5.0


@dataclass(frozen=True)
class Caps:
    """What one call may take: wall-clock seconds (the child is killed past them) and memory
    beyond what the child starts with."""

    seconds: float
    memory_bytes: int

    @classmethod
    def from_settings(cls) -> Caps:
        settings = get_settings()
        return cls(settings.parse_timeout_seconds, settings.parse_memory_bytes)


def too_complex(subject: str, detail: str) -> RuleViolation:
    """The refusal of content that would cost too much to read: what a function run here raises
    when a count passes its cap, and what `run` answers when the memory cap is reached."""
    return RuleViolation(f"{subject}_too_complex", detail, status=413)


def _timed_out(subject: str, seconds: float) -> RuleViolation:
    return RuleViolation(
        f"{subject}_timeout", f"reading the file took longer than {seconds:g} s: it was stopped", status=413
    )


# --- the child ----------------------------------------------------------------------------------


def _limit_memory(extra_bytes: int) -> None:
    """Cap the child's address space at what it has now plus `extra_bytes` (Linux)."""
    try:
        with open("/proc/self/statm") as statm:
            current = int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        return
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = current + extra_bytes
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def _child(result: Connection, memory_bytes: int, function: Callable[..., Any], args: tuple[Any, ...]) -> None:
    _limit_memory(memory_bytes)
    try:
        outcome: tuple[str, Any] = ("ok", function(*args))
    except RuleViolation as exc:
        # Sent as its parts: an exception's pickle keeps only its message.
        outcome = ("violation", (exc.code, exc.detail, exc.status, exc.errors))
    except MemoryError:
        outcome = ("memory", None)
    except BaseException as exc:  # noqa: BLE001 - reported to the parent, which raises it
        outcome = ("error", f"{type(exc).__name__}: {exc}")
    try:
        result.send(outcome)
    except MemoryError:
        result.send(("memory", None))
    finally:
        result.close()


# --- the parent ---------------------------------------------------------------------------------

_context: Any = None


def _preload() -> list[str]:
    """What the fork server imports: the parsers, and the program's main module. A child
    starts by importing the main module as multiprocessing does (`python -m govbuy.cli`: 1.6 s
    of imports); imported once in the server, that costs the child milliseconds."""
    main = sys.modules.get("__main__")
    name = getattr(getattr(main, "__spec__", None), "name", None)
    extra = [name] if name and not name.endswith("__main__") else ["__main__"]
    return [*PRELOAD, *extra]


def _fork_server() -> Any:
    global _context
    if _context is None:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(_preload())
        _context = context
    return _context


class _Call:
    """One call in one child: started, waited for and reaped in a worker thread (the waiting is
    blocking); `kill` may come from the event loop when the caller gives up first."""

    def __init__(self, function: Callable[..., Any], args: tuple[Any, ...], caps: Caps) -> None:
        self.function, self.args, self.caps = function, args, caps
        self.pid: int | None = None

    def run(self) -> tuple[str, Any]:
        context = _fork_server()
        receiver, sender = context.Pipe(duplex=False)
        process = context.Process(
            target=_child, args=(sender, self.caps.memory_bytes, self.function, self.args), daemon=True
        )
        try:
            process.start()
        except BaseException:
            receiver.close()
            sender.close()
            raise
        self.pid = process.pid
        sender.close()
        try:
            if not receiver.poll(self.caps.seconds):
                return ("timeout", None)
            try:
                return receiver.recv()
            except EOFError:
                # Gone without an answer: killed by the kernel (memory) or by `kill`.
                return ("died", None)
        finally:
            receiver.close()
            if process.is_alive():
                process.kill()
            process.join(_REAP_SECONDS)
            self.pid = None

    def kill(self) -> None:
        """SIGKILL the child from the event loop, when the caller gives up while it runs."""
        pid = self.pid
        if pid is not None:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


async def warm() -> None:
    """Start the fork server (for the app's start-up), so that the first upload does not wait
    for it to import the parsers and the main module."""
    from multiprocessing import forkserver

    _fork_server()
    await asyncio.to_thread(forkserver.ensure_running)


_slots: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = weakref.WeakKeyDictionary()


def _slot() -> asyncio.Semaphore:
    loop = asyncio.get_running_loop()
    if loop not in _slots:
        _slots[loop] = asyncio.Semaphore(max(1, get_settings().parse_workers))
    return _slots[loop]


async def run(function: Callable[..., T], *args: Any, subject: str, caps: Caps | None = None) -> T:
    """`function(*args)` in a child process under `caps` (the settings' by default); its
    refusals are coded `<subject>_timeout` and `<subject>_too_complex`."""
    caps = caps or Caps.from_settings()
    async with _slot():
        call = _Call(function, args, caps)
        try:
            kind, value = await asyncio.to_thread(call.run)
        finally:
            # A caller that gives up (its deadline, a client gone) takes the child with it.
            call.kill()
    if kind == "ok":
        return value
    if kind == "violation":
        code, detail, status, errors = value
        raise RuleViolation(code, detail, status=status, errors=errors)
    if kind == "timeout":
        raise _timed_out(subject, caps.seconds)
    if kind in ("memory", "died"):
        megabytes = caps.memory_bytes // (1024 * 1024)
        raise too_complex(subject, f"reading the file needs more than {megabytes} MB: it was stopped")
    raise RuntimeError(f"{getattr(function, '__qualname__', function)} failed in its child process: {value}")
