"""CPU-heavy work in a child process under caps (govbuy.offload): its answer or refusal comes
back, a child past its time cap is killed, one past its memory cap is refused."""

from __future__ import annotations

import os

import pytest

from govbuy import offload
from govbuy.rules import RuleViolation

SMALL = offload.Caps(seconds=30, memory_bytes=64 * 1024 * 1024)


def _pid_and_sum(numbers: list[int]) -> tuple[int, int]:
    return os.getpid(), sum(numbers)


def _refuse() -> None:
    raise RuleViolation("invalid_import_file", "not a workbook", errors=[{"field": "file", "message": "no"}])


def _spin_forever() -> None:
    while True:
        pass


def _allocate(megabytes: int) -> int:
    return len(bytearray(megabytes * 1024 * 1024))


def _bug() -> None:
    raise KeyError("oops")


async def test_the_function_runs_in_another_process_and_its_result_comes_back():
    pid, total = await offload.run(_pid_and_sum, [1, 2, 3], subject="import", caps=SMALL)
    assert (total, pid != os.getpid()) == (6, True)


async def test_a_rule_violation_comes_back_as_raised():
    with pytest.raises(RuleViolation) as refused:
        await offload.run(_refuse, subject="import", caps=SMALL)
    assert (refused.value.code, refused.value.status, refused.value.errors) == (
        "invalid_import_file", 422, [{"field": "file", "message": "no"}],
    )


async def test_a_child_past_its_time_cap_is_killed_and_the_call_is_413_timeout():
    with pytest.raises(RuleViolation) as refused:
        await offload.run(_spin_forever, subject="import", caps=offload.Caps(seconds=0.5, memory_bytes=SMALL.memory_bytes))
    assert (refused.value.code, refused.value.status) == ("import_timeout", 413)


async def test_a_child_past_its_memory_cap_is_413_too_complex():
    with pytest.raises(RuleViolation) as refused:
        await offload.run(_allocate, 512, subject="document", caps=SMALL)
    assert (refused.value.code, refused.value.status) == ("document_too_complex", 413)
    assert await offload.run(_allocate, 8, subject="document", caps=SMALL) == 8 * 1024 * 1024


async def test_any_other_exception_is_a_bug_not_a_refusal():
    with pytest.raises(RuntimeError, match="KeyError"):
        await offload.run(_bug, subject="import", caps=SMALL)
