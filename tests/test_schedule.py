"""Rows per iteration (spec 6.2, 6.3): H2O's fixed meanings and the measured -2 auto-tuning."""

import pytest

from mpidl.train.schedule import (AutoTuner, autotune_tspi, calibration_rows, fill_chunk_rows,
                                  fill_limit, initial_tspi, planned_overhead, time_capped_tspi)


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
    (1e-4, 1, 800, 1000, 10),       # ~1 ms of 0.1 ms rows
    (1e-3, 4, 800, 1000, 4),        # at least one unit, whole units
    (1e-6, 2, 8000, 1000, 1000),    # 1 ms of 1 us rows, up to the limit
    (1e-6, 128, 8000, 2000, 896),   # whole mini-batches per thread: 7 x 128 of 1,000 rows
    (1e-6, 1, 800, 1000, 100),      # at most an eighth of the share
    (1e-7, 1, 8000, 70, 70),        # never more than the limit
    (1.0, 1, 800, 10, 1),           # slow rows: one at a time
])
def test_fill_chunk_rows(per_row, unit, share, limit, expect):
    assert fill_chunk_rows(per_row, unit, share, limit) == expect


def test_time_capped_tspi_fits_the_time_left():
    # 3 s left at 0.1 ms per row over all ranks: 30,000 rows, not the planned 100,000
    assert time_capped_tspi(100000, 3.0, 1e-4) == 30000
    assert time_capped_tspi(500, 3.0, 1e-4) == 500          # fits: unchanged
    assert time_capped_tspi(500, -1.0, 1e-4) == 1           # no time left: one row, then stop


def test_first_iteration_is_capped_by_max_runtime_at_the_measured_speed(tmp_path, monkeypatch):
    """max_runtime_secs = 3 with -2 on one rank at a measured 1 ms per row: the first
    iteration plans 3,000 rows (what fits in 3 s), not -2's 10 epochs' worth (3,800).
    The kernel is skipped: only the planned rows are asked about."""
    from pathlib import Path

    import mpidl.train.loop as loop
    from mpidl.comm import SerialComm
    from mpidl.params import validate
    monkeypatch.setattr(loop.Trainer, "_seconds_per_row", lambda self, n, seconds=0.2: 1e-3)
    planned = []
    monkeypatch.setattr(loop.kernel_call, "train_rows",
                        lambda *args: planned.append(len(args[4])) or len(args[4]))
    data = str(Path(__file__).resolve().parents[1] / "data" / "prostate.csv")
    job = dict(training_frame=data, response_column="CAPSULE", ignored_columns=["ID"],
               distribution="bernoulli", hidden=[4], epochs=1000, seed=3, stopping_rounds=0,
               train_samples_per_iteration=-2, max_runtime_secs=3)
    loop.Trainer(validate(job, "test"), SerialComm(), 1, str(tmp_path / "m.h5"), "m",
                 log=lambda *a, **k: None).run()
    assert planned[0] == 3000
