"""Rows per iteration (spec 6.2, 6.3): H2O's fixed meanings and the measured -2 auto-tuning."""

import numpy as np
import pytest

from mpidl.train.schedule import (AutoTuner, autotune_tspi, calibration_rows, initial_tspi,
                                  iteration_order, local_fraction)


@pytest.mark.parametrize("user,replicated,expect", [
    (0, True, 1000), (-1, True, 4000), (-1, False, 1000), (250, True, 250), (10**9, True, 5000)])
def test_fixed_meanings(user, replicated, expect):
    assert initial_tspi(user, 1000, 4, replicated, 5.0, 1e-3, 0.01, 0.05) == expect


def test_autotune_hits_the_target_comm_share():
    # 4 ranks, 1 ms per row per rank, 20 ms allreduce, 5 % target: comm / (comm + compute) = 5 %
    rows, t_row, t_comm = 10**7, 1e-3, 0.02
    tspi = autotune_tspi(rows, 4, 100.0, t_row, t_comm, 0.05)
    compute = tspi * t_row / 4
    assert t_comm / (t_comm + compute) == pytest.approx(0.05, rel=1e-3)


def test_autotune_scales_with_measured_speed_and_comm_time():
    base = autotune_tspi(10**7, 2, 100.0, 1e-3, 0.02, 0.05)
    assert autotune_tspi(10**7, 2, 100.0, 0.5e-3, 0.02, 0.05) == pytest.approx(2 * base, rel=1e-3)
    assert autotune_tspi(10**7, 2, 100.0, 1e-3, 0.04, 0.05) == pytest.approx(2 * base, rel=1e-3)


def test_autotune_clamps():
    # at least ~10 iterations per run
    assert autotune_tspi(1000, 2, 1.0, 1e-9, 1.0, 0.05) == 100
    # one training rank: about 10 s of compute per iteration (H2O's 1e-3 share of 10 ms)
    assert autotune_tspi(10**9, 1, 100.0, 1e-3, 0.0, 0.05) == 9990
    # snapped down to whole epochs when within 20 % of one
    assert autotune_tspi(1000, 2, 100.0, 1e-6, 0.0105, 0.05) == 10000
    assert autotune_tspi(10, 2, 1.0, 1.0, 1e-6, 0.05) == 1


def test_calibration_rows_bounded_by_data_and_size():
    assert calibration_rows((784, 1024, 1024, 10), 60000) == 89
    assert calibration_rows((10, 8, 2), 60000) == 2000
    assert calibration_rows((10, 8, 2), 50) == 50


def test_local_fraction_splits_replicated_work():
    assert local_fraction(4000, 1000, 4, True) == 1.0
    assert local_fraction(500, 1000, 4, False) == 0.5


def test_iteration_order_counts_and_coverage():
    rng = np.random.default_rng(0)
    o = iteration_order(100, 2.5, rng, False, None)
    assert o.size == 250
    assert np.array_equal(np.bincount(o[:200], minlength=100), np.full(100, 2))
    assert len(set(o[200:].tolist())) == 50
    w = np.r_[np.ones(50), 3 * np.ones(50)]
    o = iteration_order(100, 10.0, rng, False, w)
    assert (o >= 50).mean() == pytest.approx(0.75, abs=0.03)


def test_iteration_order_never_empty_for_a_rank_with_rows():
    """A tiny iteration split over many ranks (tspi = 1 on 2 ranks) still trains a row each, so
    training always advances."""
    o = iteration_order(500, 1 / 1000, np.random.default_rng(0), False, None)
    assert o.size == 1 and 0 <= o[0] < 500
    assert iteration_order(0, 0.5, np.random.default_rng(0), False, None).size == 0


def test_autotuner_solves_from_measurements():
    t = AutoTuner(rows=10**7, trainers=2, epochs=100.0, t_comm=0.01, target=0.05)
    assert t.tspi(1234) == 1234                       # nothing measured yet
    t.observe(compute_seconds=2.0, rows=1000, overhead=0.004)
    assert t.tspi(1234) == autotune_tspi(10**7, 2, 100.0, 2e-3, 0.01, 0.05)
    t.observe(compute_seconds=2.0, rows=1000, overhead=0.054)   # overhead now 0.019 smoothed
    assert t.overhead == pytest.approx(0.7 * 0.004 + 0.3 * 0.054)
    assert t.tspi(1) == autotune_tspi(10**7, 2, 100.0, 2e-3, t.overhead, 0.05)
