from __future__ import annotations

import random

import pytest

from ffscan.runtime import Backoff


def test_delays_grow_by_the_factor_until_the_cap():
    backoff = Backoff(initial=0.5, factor=2.0, max=3.0, jitter=0.0)
    assert [backoff.delay(attempt) for attempt in range(1, 6)] == [0.5, 1.0, 2.0, 3.0, 3.0]


def test_jitter_scales_each_delay_within_its_fraction():
    backoff = Backoff(initial=1.0, factor=2.0, max=30.0, jitter=0.1)
    delays = [backoff.delay(3, random.Random(seed)) for seed in range(50)]
    expected = [4.0 * (1 + random.Random(seed).uniform(-0.1, 0.1)) for seed in range(50)]
    assert delays == expected
    assert all(3.6 <= delay <= 4.4 for delay in delays)
    assert len(set(delays)) == 50


def test_a_huge_attempt_number_gives_the_cap_instead_of_overflowing():
    assert Backoff(initial=1.0, factor=10.0, max=7.5, jitter=0.0).delay(5000) == 7.5


def test_backoff_is_frozen():
    backoff = Backoff()
    with pytest.raises(AttributeError):
        backoff.initial = 1.0  # type: ignore[misc]


@pytest.mark.parametrize(
    "options",
    [{"initial": -1.0}, {"max": -1.0}, {"factor": 0.5}, {"jitter": 1.5}, {"jitter": -0.1}],
)
def test_invalid_settings_are_refused(options):
    with pytest.raises(ValueError, match="Backoff"):
        Backoff(**options)


def test_attempts_count_from_one():
    with pytest.raises(ValueError, match="counts from 1"):
        Backoff().delay(0)
