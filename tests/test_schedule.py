"""Rows per iteration (spec 6.2, 6.3): H2O's fixed meanings and the measured -2 auto-tuning."""

import numpy as np
import pytest

from mpidl.train.schedule import (AutoTuner, autotune_tspi, calibration_rows, fill_chunk_rows,
                                  fill_limit, initial_tspi, iteration_order, local_fraction,
                                  planned_overhead)


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
    # H2O's estimate: 0.1 s + 2 allreduces, above the measured 4 ms
    assert t.tspi(1234) == autotune_tspi(10**7, 2, 100.0, 2e-3, 0.12, 0.05)
    t.observe(compute_seconds=2.0, rows=1000, overhead=0.504)   # a straggler: 0.154 smoothed
    assert t.overhead == pytest.approx(0.7 * 0.004 + 0.3 * 0.504)
    assert t.tspi(1) == autotune_tspi(10**7, 2, 100.0, 2e-3, t.overhead, 0.05)
    assert t.tspi(1) > autotune_tspi(10**7, 2, 100.0, 2e-3, 0.12, 0.05)


@pytest.mark.parametrize("trainers,measured,expect", [
    (2, 0.0, 0.1 + 2 * 0.02),      # H2O: 0.1 s + 2 floor(log2 N) collectives
    (3, 0.0, 0.1 + 2 * 0.02),
    (16, 0.0, 0.1 + 8 * 0.02),
    (2, 0.05, 0.14),               # measured below the estimate: the estimate
    (2, 0.3, 0.3),                 # measured above: the measurement
])
def test_planned_overhead(trainers, measured, expect):
    assert planned_overhead(trainers, 0.02, measured) == pytest.approx(expect)


def test_autotune_plans_h2o_iteration_lengths_on_several_ranks():
    # 2 ranks, 1.2 ms per row each, 11 ms allreduce: ~2 s of compute per iteration, as H2O
    tspi = initial_tspi(-2, 10**6, 2, False, 100.0, 1.2e-3, 0.011, 0.05)
    seconds = tspi * 1.2e-3 / 2
    assert seconds == pytest.approx(19 * 0.122, rel=1e-3)


def test_fill_limit_is_one_more_share_and_never_past_epochs():
    # 1000 rows, 2 epochs, 2 ranks, 300-row iterations (150 per rank)
    assert fill_limit(150, 1000, 2.0, 0, 300, 2) == 150              # the share again
    assert fill_limit(150, 1000, 2.0, 1500, 300, 2) == 100           # 200 rows left: 100 each
    assert fill_limit(150, 1000, 2.0, 1700, 300, 2) == 0             # this iteration ends the run
    assert fill_limit(150, 1000, 2.0, 1900, 300, 2) == 0             # already past: never negative
    assert fill_limit(0, 1000, 2.0, 0, 300, 2) == 0                  # a rank without rows


@pytest.mark.parametrize("per_row,unit,share,limit,expect", [
    (1e-3, 1, 800, 1000, 5),        # ~5 ms of 1 ms rows
    (1e-3, 4, 800, 1000, 4),        # at least one unit, whole units
    (1e-5, 2, 8000, 1000, 500),     # 5 ms of 10 us rows
    (1e-5, 128, 8000, 1000, 384),   # whole mini-batches per thread: 3 x 128
    (1e-5, 1, 800, 1000, 100),      # at most an eighth of the share
    (1e-6, 1, 8000, 70, 70),        # never more than the limit
    (1.0, 1, 800, 10, 1),           # slow rows: one at a time
])
def test_fill_chunk_rows(per_row, unit, share, limit, expect):
    assert fill_chunk_rows(per_row, unit, share, limit) == expect
