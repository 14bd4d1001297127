"""Replicated ranks with whole passes: does each rank's own row order pay? (issue 10)

``mpirun -n RANKS`` on MNIST with replicated data and ``train_samples_per_iteration = -1``
(every rank one whole pass per iteration), no dropout, so ranks that visit their rows in the
same order compute the same model.  Runs the current tree and a revision without the shuffle
fix (``--before``, extracted with ``git archive``) with the same seeds, and records the
validation (test-set) error of each, mean and standard deviation over the seeds, at equal
samples (both train RANKS x EPOCHS passes).

    python benchmarks/replicated_orders.py --ranks 4 --seeds 1 2 3 --record
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import common


def _extract(rev: str, into: Path) -> Path:
    """The tree of revision ``rev`` under ``into`` (no checkout of the working tree)."""
    archive = subprocess.run(["git", "-C", str(common.ROOT), "archive", rev],
                             capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


def _error(params: dict, ranks: int, tree: Path, tag: str) -> tuple[float, int, float]:
    """(validation classification error, samples, wall seconds) of one run with ``tree``'s mpidl."""
    cmd, model, env = common.prepare_run(params, 1, ranks, tag)
    env["PYTHONPATH"] = str(tree)
    t0 = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=tree)
    if r.returncode != 0:
        sys.exit(f"{tag}: failed ({r.returncode}): {(r.stderr or r.stdout).strip()[-600:]}")
    info = common.inspect(str(model))
    last = info["scoring_history"][-1]
    return last["validation_classification_error"], last["samples"], time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ranks", type=int, default=4)
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    ap.add_argument("--epochs", type=float, default=1.0)
    ap.add_argument("--hidden", default="200,200")
    ap.add_argument("--before", default="38d04f0",
                    help="a revision without the shuffle fix (default: the commit before it)")
    ap.add_argument("--record", action="store_true", help="write the table to RESULTS.md")
    a = ap.parse_args()
    train_h5, test_h5 = common.mnist_h5()
    base = dict(training_frame=train_h5, validation_frame=test_h5, response_column="C785",
                hidden=[int(h) for h in a.hidden.split(",")], epochs=a.epochs,
                replicate_training_data=True, train_samples_per_iteration=-1,
                score_training_samples=1000, stopping_rounds=0)
    with tempfile.TemporaryDirectory(prefix="mpidl-before-") as tmp:
        trees = {"before (file order)": _extract(a.before, Path(tmp)), "now (H2O's shuffle)":
                 common.ROOT}
        errors: dict[str, list[float]] = {k: [] for k in trees}
        for seed in a.seeds:
            for name, tree in trees.items():
                err, samples, wall = _error({**base, "seed": seed}, a.ranks, tree, "orders")
                errors[name].append(err)
                print(f"seed {seed} {name}: test error {err:.4f} after {samples} samples "
                      f"({wall:.0f} s)", flush=True)
    rows = [[name, f"{statistics.mean(v):.4f}",
             f"{statistics.stdev(v):.4f}" if len(v) > 1 else "-", " ".join(f"{x:.4f}" for x in v)]
            for name, v in errors.items()]
    body = common.table(["row order", "test error (mean)", "sd", "per seed"], rows)
    print(body)
    if a.record:
        common.record("replicated-orders", f"Replicated ranks' row orders: MNIST, {a.ranks} "
                      f"ranks x 1 thread, hidden {base['hidden']}, tspi -1, {a.epochs:g} "
                      f"epoch(s) per rank, seeds {' '.join(map(str, a.seeds))}", body)


if __name__ == "__main__":
    main()
