"""The grid search on one rank: H2O's walking orders and stop rules against hand-worked values,
and whole ``python -m mpidl grid`` runs (every point trained once, grid.csv best first, failed
points reported, --index and --collect, max_models and max_runtime_secs, kill and resume)."""

from __future__ import annotations

import csv
import signal
import subprocess
import sys
import time
from pathlib import Path

import h5py
import numpy as np
import pytest

from mpidl.checkpoint import read_model
from mpidl.errors import UserError
from mpidl.grid.space import Criteria, cartesian_index, load_grid, walk
from mpidl.grid.table import Row, grid_converged, sort_rows

pytestmark = pytest.mark.mpi_skip

PROSTATE = Path(__file__).resolve().parents[1] / "data" / "prostate.csv"
FIXED = f"""\
training_frame = "{PROSTATE}"
response_column = "CAPSULE"
ignored_columns = ["ID"]
distribution = "bernoulli"
reproducible = true
seed = 11
"""


def grid_job(tmp_path: Path, text: str, name: str = "g.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def mpidl_grid(job: Path, out: Path, *args, timeout: float = 300) -> subprocess.CompletedProcess:
    out.mkdir(exist_ok=True)
    return subprocess.run([sys.executable, "-m", "mpidl", "grid", str(job), "-o", str(out),
                           "--threads", "1", *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, cwd=job.parent)


def table(out: Path) -> list[dict]:
    with open(out / "grid.csv", newline="") as fh:
        return list(csv.DictReader(fh))


# ------------------------------------------------------------------ walking orders
def test_cartesian_first_hyper_parameter_varies_fastest():
    """H2O's CartesianWalker.nextModelIndices flips the first index first."""
    hyper = {"a": [1, 2], "b": ["x", "y", "z"]}
    points = walk(hyper, Criteria(), 0, "job")
    assert [(p["a"], p["b"]) for p in points] == [
        (1, "x"), (2, "x"), (1, "y"), (2, "y"), (1, "z"), (2, "z")]
    assert cartesian_index(5, [2, 3]) == [1, 2]


def test_random_discrete_max_models_distinct_and_seeded():
    hyper = {"a": [1, 2, 3], "b": [4, 5, 6]}
    crit = Criteria(strategy="RandomDiscrete", max_models=4, seed=3)
    points = walk(hyper, crit, 3, "job")
    assert len(points) == 4
    assert len({(p["a"], p["b"]) for p in points}) == 4
    assert walk(hyper, crit, 3, "job") == points
    every = walk(hyper, Criteria(strategy="RandomDiscrete"), 9, "job")
    assert sorted((p["a"], p["b"]) for p in every) == [(a, b) for a in (1, 2, 3) for b in (4, 5, 6)]


def test_random_discrete_model_seed_is_search_seed_plus_model_number(tmp_path):
    """H2O: with no model seed, RandomDiscrete models get seed = search seed + model number."""
    text = FIXED.replace("seed = 11\n", "") + ("[hyper_parameters]\nl1 = [0, 1e-4, 1e-3]\n"
                                               "[search_criteria]\nstrategy = \"RandomDiscrete\"\n"
                                               "seed = 100\n")
    job = load_grid(str(grid_job(tmp_path, text)), 0)
    assert [job.params_of(i).seed for i in range(3)] == [100, 101, 102]


def test_huge_random_space_needs_max_models():
    hyper = {f"p{i}": list(range(10)) for i in range(6)}
    with pytest.raises(UserError, match="max_models"):
        walk(hyper, Criteria(strategy="RandomDiscrete"), 0, "job")


def test_serial_split_and_counter():
    """One rank without MPI: split gives a one-rank communicator, the counter counts."""
    from mpidl.comm import SerialComm
    comm = SerialComm()
    assert comm.split(3).size == 1
    counter = comm.shared_counter()
    assert [counter.take() for _ in range(3)] == [0, 1, 2]


# ------------------------------------------------------------------ ranking and early stop
def _row(i, value, metric="logloss"):
    return Row(i, f"m{i}", {}, metric, value, "training", 0.0, 0)


def test_rows_sorted_best_first_by_direction():
    rows = sort_rows([_row(0, 0.5), _row(1, float("nan")), _row(2, 0.2), _row(3, 0.5)])
    assert [r.index for r in rows] == [2, 0, 3, 1]
    auc = sort_rows([_row(0, 0.7, "AUC"), _row(1, 0.9, "AUC")])
    assert [r.index for r in auc] == [1, 0]


def test_grid_early_stop_hand_values():
    """ScoreKeeper.stopEarly over the metrics sorted worst to best, k = 1: the best must beat
    the second best by the relative tolerance."""
    # worst to best 3, 2: ratio 2/3 < 1 - 0.01: goes on
    assert not grid_converged(sort_rows([_row(0, 3.0), _row(1, 2.0)]), 1, 0.01)
    # 2.0 then 1.995: ratio 0.9975 >= 0.99: converged
    assert grid_converged(sort_rows([_row(0, 2.0), _row(1, 1.995)]), 1, 0.01)
    # k = 2 needs four models
    assert not grid_converged(sort_rows([_row(0, 2.0), _row(1, 1.995), _row(2, 1.99)]), 2, 0.01)
    assert not grid_converged([], 1, 0.01)


# ------------------------------------------------------------------ whole grids
CARTESIAN = FIXED + """\
epochs = 2
[hyper_parameters]
hidden = [[4], [3, 3]]
l1 = [0.0, -1.0, 1e-3]
"""


def test_cartesian_grid_trains_each_point_once_and_reports_failures(tmp_path):
    out = tmp_path / "out"
    r = mpidl_grid(grid_job(tmp_path, CARTESIAN), out)
    assert r.returncode == 0, r.stderr
    # l1 = -1 fails validation for both layer shapes: reported, the search goes on
    summary = [ln for ln in r.stdout.splitlines() if ln.startswith("failed: ")]
    assert len(summary) == 2 and all("parameter 'l1'" in ln for ln in summary)
    assert sorted(p.name for p in out.glob("*.failed")) == ["g_model_2.failed", "g_model_3.failed"]
    assert sorted(p.name for p in out.glob("*.h5")) == [f"g_model_{i}.h5" for i in (0, 1, 4, 5)]
    rows = table(out)
    assert sorted(row["model_id"] for row in rows) == [f"g_model_{i}" for i in (0, 1, 4, 5)]
    values = [float(row["logloss"]) for row in rows]
    assert values == sorted(values)
    for row in rows:   # each row holds its model's own training logloss and samples
        model = read_model(str(out / f"{row['model_id']}.h5"))
        assert float(row["logloss"]) == model.training_metrics["logloss"]
        assert int(row["samples"]) == model.processed
        assert row["hidden"] == str(model.params.hidden).replace("'", "")
    assert "table written to" in r.stdout and rows[0]["model_id"] in r.stdout


def test_validation_metrics_rank_when_present(tmp_path):
    text = CARTESIAN.replace("epochs = 2\n", f"epochs = 2\nvalidation_frame = \"{PROSTATE}\"\n")
    text = text.replace("l1 = [0.0, -1.0, 1e-3]", "l1 = [0.0]")
    out = tmp_path / "out"
    r = mpidl_grid(grid_job(tmp_path, text), out)
    assert r.returncode == 0, r.stderr
    for row in table(out):
        model = read_model(str(out / f"{row['model_id']}.h5"))
        assert row["scored_on"] == "validation"
        assert float(row["logloss"]) == model.validation_metrics["logloss"]


def test_cross_validation_metrics_rank_when_nfolds(tmp_path):
    """A grid of cross-validated models ranks them by their cross-validation metrics, as H2O's
    grid does with nfolds > 1."""
    text = CARTESIAN.replace("epochs = 2\n", "epochs = 2\nnfolds = 3\n")
    text = text.replace("l1 = [0.0, -1.0, 1e-3]", "l1 = [0.0, 1e-3]")
    out = tmp_path / "out"
    r = mpidl_grid(grid_job(tmp_path, text), out)
    assert r.returncode == 0, r.stderr
    rows = table(out)
    assert len(rows) == 4
    for row in rows:
        model = read_model(str(out / f"{row['model_id']}.h5"))
        assert row["scored_on"] == "cross-validation"
        assert float(row["logloss"]) == model.cross_validation_metrics["logloss"]


def test_index_then_collect_gives_the_whole_grid_table(tmp_path):
    job = grid_job(tmp_path, CARTESIAN.replace("hidden = [[4], [3, 3]]", "hidden = [[4]]"))
    whole, parts = tmp_path / "whole", tmp_path / "parts"
    assert mpidl_grid(job, whole).returncode == 0
    for i in range(3):
        r = mpidl_grid(job, parts, "--index", i)
        assert r.returncode == 0, r.stderr
    assert not (parts / "grid.csv").exists()
    r = mpidl_grid(job, parts, "--collect", parts)
    assert r.returncode == 0, r.stderr
    drop = lambda rows: [{k: v for k, v in row.items() if k != "training_seconds"} for row in rows]  # noqa: E731
    assert drop(table(parts)) == drop(table(whole))


def test_random_discrete_max_models(tmp_path):
    text = FIXED + """\
epochs = 1
[hyper_parameters]
hidden = [[2], [3], [4]]
l2 = [0.0, 1e-4, 1e-3]
[search_criteria]
strategy = "RandomDiscrete"
max_models = 3
seed = 5
"""
    out = tmp_path / "out"
    r = mpidl_grid(grid_job(tmp_path, text), out)
    assert r.returncode == 0, r.stderr
    rows = table(out)
    assert len(rows) == 3 and len(list(out.glob("*.h5"))) == 3
    assert len({(row["hidden"], row["l2"]) for row in rows}) == 3


def test_random_discrete_max_runtime_ends_the_search(tmp_path):
    """A grid of models that would train for hours ends on the grid's max_runtime_secs: each
    model's own time limit is the grid's time left (H2O's reconcileMaxRuntime)."""
    text = FIXED + """\
epochs = 1e6
stopping_rounds = 0
[hyper_parameters]
l2 = [0.0, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1]
[search_criteria]
strategy = "RandomDiscrete"
max_runtime_secs = 2
seed = 1
"""
    out = tmp_path / "out"
    r = mpidl_grid(grid_job(tmp_path, text), out)
    assert r.returncode == 0, r.stderr
    models = [read_model(str(p)) for p in out.glob("*.h5")]
    assert 1 <= len(models) < 6
    assert [m.stop_reason for m in models] == ["max_runtime_secs"] * len(models)


RESUMABLE = FIXED + """\
epochs = 1000
stopping_rounds = 0
overwrite_with_best_model = false
hidden = [4]
[hyper_parameters]
l2 = [0.0, 1e-5, 1e-4]
"""


def _buf(path: Path) -> np.ndarray:
    with h5py.File(path, "r") as f:
        return f["buf"][:]


def test_killed_grid_resumes_without_training_twice(tmp_path):
    job = grid_job(tmp_path, RESUMABLE)
    whole = tmp_path / "whole"
    assert mpidl_grid(job, whole).returncode == 0
    out = tmp_path / "out"
    out.mkdir()
    proc = subprocess.Popen([sys.executable, "-m", "mpidl", "grid", str(job), "-o", str(out),
                             "--threads", "1"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, cwd=tmp_path)
    first = out / "g_model_0.h5"
    while not first.exists() and proc.poll() is None:
        time.sleep(0.05)
    time.sleep(0.5)   # model 1 is being set up or trained: it is checkpointed
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 75, err
    assert not (out / "grid.csv").exists()
    assert read_model(str(out / "g_model_1.h5")).stop_reason == "signal"
    assert not (out / "g_model_2.h5").exists()
    done_at = first.stat().st_mtime_ns
    r = mpidl_grid(job, out)
    assert r.returncode == 0, r.stderr
    assert first.stat().st_mtime_ns == done_at                # not trained again
    assert "g_model_0 " not in r.stdout.split("grid g:")[0]   # only the others reported
    for i in range(3):
        model = read_model(str(out / f"g_model_{i}.h5"))
        assert model.stop_reason != "signal" and model.epoch_counter == pytest.approx(1000)
    assert [row["model_id"] for row in table(out)] == [row["model_id"] for row in table(whole)]
    for i in range(3):   # reproducible: the resumed model 1 is the uninterrupted one too
        np.testing.assert_array_equal(_buf(out / f"g_model_{i}.h5"), _buf(whole / f"g_model_{i}.h5"))


def test_nested_signal_flags_share_a_signal():
    """A signal the model's flag caught reaches the grid's flag around it, and a model started
    after the grid's flag caught one starts signalled."""
    import os
    from mpidl.train.signals import SignalFlag
    with SignalFlag() as grid:
        with SignalFlag() as model:
            os.kill(os.getpid(), signal.SIGUSR1)
            time.sleep(0.01)
            assert model.raised
        assert grid.raised
        with SignalFlag() as next_model:
            assert next_model.raised
    with SignalFlag() as fresh:
        assert not fresh.raised


def test_shipped_grid_jobs_walk_their_points():
    jobs = Path(__file__).resolve().parents[1] / "jobs"
    mnist = load_grid(str(jobs / "grid_mnist.toml"), 0)
    assert len(mnist.points) == 16 and mnist.grid_id == "grid_mnist"
    assert mnist.points[1] == {"hidden": [128], "activation": "Rectifier", "l1": 0.0}
    quick = load_grid(str(jobs / "grid_quickstart.toml"), 0)
    assert len(quick.points) == 6
    assert all(quick.params_of(i).hidden == quick.points[i]["hidden"] for i in range(6))


def test_random_discrete_grid_early_stop(tmp_path):
    """stopping_rounds = 1 with a 50 % tolerance: the second model cannot beat the first by
    half (prostate logloss), so the grid stops after two of its six points."""
    text = FIXED + """\
epochs = 1
[hyper_parameters]
l2 = [0.0, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1]
[search_criteria]
strategy = "RandomDiscrete"
seed = 2
stopping_rounds = 1
stopping_tolerance = 0.5
"""
    out = tmp_path / "out"
    r = mpidl_grid(grid_job(tmp_path, text), out)
    assert r.returncode == 0, r.stderr
    values = sorted(float(row["logloss"]) for row in table(out))
    assert len(values) == 2 and values[0] / values[1] >= 0.5


def test_parallel_queue_hands_out_the_largest_points_first(tmp_path):
    """With several groups the queue goes longest first by epochs x weights (hand values for
    prostate.csv's nominal 100 inputs and one output); one group, a time limit or a grid-level
    early stop keep the grid's own order."""
    from mpidl.grid.order import queue_order
    job = load_grid(str(grid_job(tmp_path, FIXED + """
[hyper_parameters]
hidden = [[8], [64, 64], [32]]
epochs = [1, 3]
""")), 0)
    # weights: [8] 100*8 + 8 = 808; [64,64] 6400 + 4096 + 64 = 10560; [32] 3232; x epochs
    cost = {(8,): 808, (64, 64): 10560, (32,): 3232}
    want = sorted(range(6), key=lambda i: -cost[tuple(job.points[i]["hidden"])]
                  * job.points[i]["epochs"])
    assert queue_order(job, 2) == want
    assert [tuple(job.points[i]["hidden"]) for i in want[:2]] == [(64, 64), (64, 64)]
    assert queue_order(job, 1) == list(range(6))
    timed = load_grid(str(grid_job(tmp_path, FIXED + """
[hyper_parameters]
hidden = [[8], [64, 64]]
[search_criteria]
strategy = "RandomDiscrete"
max_runtime_secs = 60
seed = 1
""", "t.toml")), 0)
    assert queue_order(timed, 2) == list(range(len(timed.points)))
