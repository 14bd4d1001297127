"""Cross-validation's fold models on groups of ranks (``ranks_per_model``, cv/groups.py): every
fold model is trained exactly once, by one whole group, and in reproducible mode the CV
metrics are those of a sequential cross-validation on a communicator of the group's size
(reproducible means bit-identical for a given rank count, so that is the run the groups must
reproduce).  With models that do not depend on the rank count (rank 0 of each communicator
trains alone), groups of any size give the CV metrics of the run on all ranks.  Under
``mpirun -n 3`` a group of 2 does not divide the ranks: refused.

Run inside MPI: ``mpirun -n 4 python -m pytest --with-mpi tests/mpi/test_cv_groups_mpi.py``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mpidl.checkpoint import read_model
from mpidl.cv import run
from mpidl.errors import UserError
from mpidl.params import validate

pytestmark = pytest.mark.timeout(300, method="thread")

PROSTATE = str(Path(__file__).resolve().parents[2] / "data" / "prostate.csv")
NFOLDS = 3
BASE = dict(training_frame=PROSTATE, response_column="CAPSULE", ignored_columns=["ID"],
            distribution="bernoulli", hidden=[5], epochs=2, seed=7, nfolds=NFOLDS,
            reproducible=True, keep_cross_validation_predictions=True)
NO_KEEP = dict(keep_cross_validation_predictions=False)


def cv_run(comm, folder: Path, lines: list, ranks_per_model=None, **changes):
    """The CV of BASE with ``changes`` on ``comm`` into folder/m.h5 (rank 0 makes the
    folder)."""
    if comm.is_root:
        folder.mkdir()
    comm.barrier()
    return run.train_with_cv(validate({**BASE, **changes}, "test"), comm, 1,
                             str(folder / "m.h5"), "m",
                             log=lambda *a, **k: lines.append(" ".join(map(str, a))),
                             ranks_per_model=ranks_per_model)


def counting_train(monkeypatch) -> list[str]:
    """The model ids ``cv/run.py`` trains on this rank, in order."""
    calls, real = [], run.train

    def train(params, comm, threads, out_path, model_id, *args, **kw):
        calls.append(model_id)
        return real(params, comm, threads, out_path, model_id, *args, **kw)
    monkeypatch.setattr(run, "train", train)
    return calls


@pytest.mark.mpi
@pytest.mark.parametrize("per_model", [1, 2])
def test_groups_train_each_fold_once_to_the_sequential_metrics(comm, shared_dir, everywhere,
                                                               monkeypatch, per_model):
    if comm.size % per_model:
        with pytest.raises(UserError, match=f"--ranks-per-model {per_model}: must divide"):
            cv_run(comm, shared_dir / "groups", [], ranks_per_model=per_model)
        return
    calls, lines = counting_train(monkeypatch), []
    grouped = cv_run(comm, shared_dir / "groups", lines, ranks_per_model=per_model)
    by_rank = comm.allgather_obj(list(calls))
    first = comm.split(comm.rank // per_model)     # the sequential run on the first group
    seq = (cv_run(first, shared_dir / "seq", []) if comm.rank < per_model else None)
    comm.barrier()

    def body():
        for r, ids in enumerate(by_rank):
            assert ids.count("m") == 1 and ids[-1] == "m", (r, ids)   # the main model: all ranks
        for k in range(1, NFOLDS + 1):
            ranks = [r for r, ids in enumerate(by_rank) for i in ids if i == f"m_cv_{k}"]
            assert len(ranks) == per_model, (k, by_rank)          # once on each rank of
            assert len({r // per_model for r in ranks}) == 1      # one whole group
        if not comm.is_root:
            return True
        out = shared_dir / "groups"
        assert sorted(p.name for p in out.glob("*.h5")) == sorted(
            ["m.h5"] + [f"m_cv_{k}.h5" for k in range(1, NFOLDS + 1)])
        owners = [line for line in lines if line.startswith("cross-validation on groups")]
        assert len(owners) == (per_model < comm.size)      # one group: today's run, no line
        assert all(line.count(f"m_cv_{k} on") == 1 for line in owners
                   for k in range(1, NFOLDS + 1))
        assert grouped.cross_validation_metrics == seq.cross_validation_metrics
        assert grouped.cross_validation_metrics_summary == seq.cross_validation_metrics_summary
        assert grouped.cross_validation_metrics["nobs"] == 380
        name = "m_cv_holdout_predictions.csv"
        assert (out / name).read_text() == (shared_dir / "seq" / name).read_text()
        summary = grouped.cross_validation_metrics_summary
        for key in ("logloss", "AUC", "MSE"):     # each fold model's own holdout metrics
            folds = [read_model(str(out / f"m_cv_{k}.h5")).validation_metrics[key]
                     for k in range(1, NFOLDS + 1)]
            assert summary[key]["folds"] == folds
            assert summary[key]["mean"] == pytest.approx(np.mean(folds), rel=1e-12)
            assert summary[key]["sd"] == pytest.approx(np.std(folds, ddof=1), rel=1e-12)
        return True
    assert everywhere(body)


@pytest.mark.mpi
def test_all_ranks_is_the_sequential_run_and_no_cv_is_refused(comm, shared_dir, everywhere):
    """K = the rank count is today's run (nothing split); K without nfolds is refused."""
    whole = cv_run(comm, shared_dir / "whole", [], ranks_per_model=comm.size)
    default = cv_run(comm, shared_dir / "default", [])
    with pytest.raises(UserError, match="--ranks-per-model 1: .*nfolds or fold_column"):
        run.train_with_cv(validate({**BASE, "nfolds": 0, **NO_KEEP}, "test"), comm, 1,
                          str(shared_dir / "plain.h5"), "plain", ranks_per_model=1)

    def body():
        if comm.is_root:
            assert whole.cross_validation_metrics == default.cross_validation_metrics
        return True
    assert everywhere(body)


# rank 0 of a communicator trains alone on all rows, shuffled, one epoch per iteration: a
# model that does not depend on the rank count (tests/mpi/test_cv_mpi.py), so groups of any
# size must give the CV metrics of the run on all ranks
ROOT_TRAINS = dict(reproducible=False, replicate_training_data=True, single_node_mode=True,
                   shuffle_training_data=True, train_samples_per_iteration=0,
                   score_each_iteration=True)


@pytest.mark.mpi
def test_models_free_of_the_rank_count_give_the_all_ranks_metrics(comm, shared_dir,
                                                                   everywhere):
    everyone = cv_run(comm, shared_dir / "all", [], **ROOT_TRAINS)
    grouped = {k: cv_run(comm, shared_dir / f"k{k}", [], ranks_per_model=k, **ROOT_TRAINS)
               for k in (1, 2) if comm.size % k == 0}

    def body():
        if not comm.is_root:
            return True
        name = "m_cv_holdout_predictions.csv"
        predictions = (shared_dir / "all" / name).read_text()
        for k, model in grouped.items():
            assert (shared_dir / f"k{k}" / name).read_text() == predictions, k
            for key, value in everyone.cross_validation_metrics.items():
                if isinstance(value, float):
                    assert model.cross_validation_metrics[key] == pytest.approx(value, rel=1e-9)
            for key, value in everyone.cross_validation_metrics_summary.items():
                assert model.cross_validation_metrics_summary[key]["folds"] == pytest.approx(
                    value["folds"], rel=1e-9), key
        return True
    assert everywhere(body)


@pytest.mark.mpi
def test_grid_points_with_nfolds_run_their_folds_on_their_group(comm, shared_dir, everywhere,
                                                               monkeypatch):
    """A grid point with nfolds on a group of one rank: its fold models and main model are
    all trained on that rank, each once (the folds are not split again)."""
    from mpidl.grid.search import run as grid
    job = shared_dir / "g.toml"
    if comm.is_root:
        job.write_text(f'training_frame = "{PROSTATE}"\nresponse_column = "CAPSULE"\n'
                       'ignored_columns = ["ID"]\nepochs = 1\nhidden = [3]\nnfolds = 2\n'
                       'seed = 3\nreproducible = true\n'
                       '[hyper_parameters]\nl2 = [0.0, 1e-3, 1e-2]\n')
    comm.barrier()
    calls = counting_train(monkeypatch)
    grid(str(job), str(shared_dir), comm, 1, ranks_per_model=1)
    by_rank = comm.allgather_obj(list(calls))

    def body():
        for i in range(3):
            ids = [f"g_model_{i}", f"g_model_{i}_cv_1", f"g_model_{i}_cv_2"]
            ranks = {r for r, called in enumerate(by_rank) for m in called if m in ids}
            assert len(ranks) == 1, (i, by_rank)
            assert sorted(m for called in by_rank for m in called if m in ids) == sorted(ids)
        return True
    assert everywhere(body)
