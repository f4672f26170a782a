"""The X reads table: spend per month, the day rule and the budget, in real SQLite."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.metrics.budget import XReads
from pipeline.store import open_store


def _reads(tmp_path: Path, name: str = "reads.sqlite") -> XReads:
    return XReads(open_store(f"sqlite:///{tmp_path / name}"))


def test_spend_is_per_calendar_month_in_utc(tmp_path: Path) -> None:
    """A read at 00:30 BST on 1 December is still November in UTC."""
    reads = _reads(tmp_path)
    late_nov = datetime(2026, 11, 30, 23, 30, tzinfo=UTC)
    reads.claim(["1", "2"], late_nov, 0.005, 5.0)
    reads.claim(["1"], late_nov + timedelta(hours=1), 0.005, 5.0)
    assert reads.spent_usd(2026, 11) == pytest.approx(0.010)
    assert reads.spent_usd(2026, 12) == pytest.approx(0.005)
    assert reads.remaining_usd(late_nov, 0.012) == pytest.approx(0.002)
    assert reads.remaining_usd(late_nov, 0.001) == 0.0


def test_claims_refuse_a_second_read_the_same_day(tmp_path: Path) -> None:
    """Claimed once per UTC day, whoever asks."""
    reads = _reads(tmp_path)
    now = datetime(2026, 11, 10, 9, tzinfo=UTC)
    first = reads.claim(["a", "b"], now, 0.005, 5.0)
    second = reads.claim(["b", "c"], now + timedelta(hours=14), 0.005, 5.0)
    assert first.granted == ["a", "b"] and second.granted == ["c"] and second.read_today == ["b"]
    reads.release(["c"], now + timedelta(hours=14))
    assert reads.read_on(["a", "b", "c"], "2026-11-10") == {"a", "b"}


@settings(max_examples=40, deadline=None)
@given(rounds=st.lists(st.lists(st.integers(0, 30), max_size=40), max_size=8),
       budget_reads=st.integers(0, 60))
def test_budget_is_never_exceeded(tmp_path_factory: pytest.TempPathFactory,
                                  rounds: list[list[int]], budget_reads: int) -> None:
    """Whatever is asked, round after round: the month's spend stays within the budget and no
    post is claimed twice in a day."""
    reads = _reads(tmp_path_factory.mktemp("budget"))
    cost, budget = 0.005, budget_reads * 0.005
    start = datetime(2026, 11, 1, tzinfo=UTC)
    granted: list[tuple[str, str]] = []
    for n, ids in enumerate(rounds):
        now = start + timedelta(hours=9 * n)
        claim = reads.claim([str(i) for i in ids], now, cost, budget)
        granted += [(i, now.date().isoformat()) for i in claim.granted]
    assert reads.spent_usd(2026, 11) <= budget + 1e-9
    assert len(granted) == len(set(granted))
