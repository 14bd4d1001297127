"""A node's memory with replicated MNIST on 4 ranks: one copy of the rows per node, or four.

    python benchmarks/node_memory.py --repeats 3 --record

Runs ``mpirun -n 4 python -m mpidl train`` on MNIST's 60,000 training rows with
replicate_training_data = true (H2O's default; every rank trains from all rows), hidden
[200, 200], 1 thread per rank and a few hundred rows of training, twice per round: with the
rows held once per node in MPI-3 shared memory (the default, ``MPIDL_NODE_SHARED_DATA=1``)
and with a private copy per rank (``MPIDL_NODE_SHARED_DATA=0``, what every run did before).

The node's memory is the sum of the 4 ranks' PSS at the end of training (the memory line of
the model, ``memory.pss_at_end_mb``): PSS counts a page that k processes map as 1/k on each,
so the sum is what the node holds.  The bound it is checked against is one data copy + 4 x
(interpreter + model) + 10 %, where one data copy is the kernels' arrays of all rows
(float32 inputs, float64 response and weight: rows x (4 x inputs + 16) bytes) and the
interpreter is the PSS of the same command on one rank with the bundled 380-row prostate data
(Python, numpy, numba, MPI, the compiled kernels).  Means over the rounds with the spread
(min-max).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys

import common

RANKS = 4
PARAMS = {"response_column": "C785", "hidden": [200, 200], "epochs": 0.005, "seed": 1,
          "train_samples_per_iteration": 300, "score_training_samples": 500,
          "replicate_training_data": True}


def run(train_h5: str, shared: bool, tag: str, ranks: int = RANKS) -> dict:
    """The model's inspect object of one run (``shared``: rows held once per node)."""
    params = {**PARAMS, "training_frame": train_h5}
    cmd, model, env = common.prepare_run(params, 1, ranks, tag)
    env = {**env, "MPIDL_NODE_SHARED_DATA": "1" if shared else "0"}
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=1800, env=env,
                       cwd=common.ROOT)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({r.returncode}): {r.stderr[-800:]}")
    return common.inspect(str(model))


def interpreter_mb() -> float:
    """PSS (MB) at the end of a 1-rank run on the bundled prostate data."""
    prostate = str(common.ROOT / "data" / "prostate.csv")
    params = {"training_frame": prostate, "response_column": "CAPSULE",
              "ignored_columns": ["ID"], "hidden": [10], "epochs": 1}
    cmd, model, env = common.prepare_run(params, 1, 1, "node_memory_tiny")
    subprocess.run(cmd, capture_output=True, text=True, timeout=600, env=env, cwd=common.ROOT,
                   check=True)
    return common.inspect(str(model))["memory"]["pss_at_end_mb"][0]


def data_copy_mb(info: dict) -> float:
    """MB of the kernels' arrays of all training rows (numeric inputs only, as MNIST's)."""
    inputs = info["layers"][0]["units"]
    return info["training_rows"] * (4 * inputs + 16) / 2**20


def spread(xs: list[float]) -> str:
    """mean (min-max) of ``xs``."""
    return f"{statistics.mean(xs):.0f} ({min(xs):.0f}-{max(xs):.0f})"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--train", help="MNIST train.csv.gz (default ../shared/data/mnist)")
    ap.add_argument("--repeats", type=int, default=3, help="interleaved rounds")
    ap.add_argument("--record", action="store_true", help="write the table to RESULTS.md")
    args = ap.parse_args(argv)
    train_h5, _ = common.mnist_h5(args.train)
    interp = interpreter_mb()
    totals = {True: [], False: []}
    per_rank = {}
    info = None
    for i in range(args.repeats):
        for shared in (True, False):
            info = run(train_h5, shared, f"node_memory_{int(shared)}_{i}")
            pss = info["memory"]["pss_at_end_mb"]
            totals[shared].append(sum(pss))
            per_rank[shared] = info["memory"]
            print(f"round {i + 1} shared={shared}: node PSS {sum(pss):.0f} MB "
                  f"({'/'.join(f'{x:.0f}' for x in pss)})", flush=True)
    data, model = data_copy_mb(info), info["memory"]["model_mb"]
    bound = 1.1 * (data + RANKS * (interp + model))
    rows = []
    for shared, name in ((True, "once per node (shared window)"),
                         (False, "a private copy per rank (before)")):
        mem = per_rank[shared]
        each = lambda key: "/".join(f"{x:.0f}" for x in mem[key])  # noqa: E731
        rows.append([name, spread(totals[shared]), f"{bound:.0f}",
                     "yes" if max(totals[shared]) <= bound else "no",
                     each("pss_at_end_mb"), each("shared_at_end_mb"), each("peak_rss_mb")])
    body = (f"mpirun -n {RANKS}, MNIST {info['training_rows']} rows x {info['layers'][0]['units']}"
            f" inputs, replicated, hidden [200, 200], 1 thread per rank; {args.repeats} "
            f"interleaved rounds.  One data copy {data:.0f} MB, interpreter (PSS of 1 rank on "
            f"prostate) {interp:.0f} MB, model {model} MB: bound = 1.1 x (data + {RANKS} x "
            f"(interpreter + model)) = {bound:.0f} MB.  Per-rank columns: the last round.\n\n"
            + common.table(["training rows held", "node PSS total MB, mean (min-max)",
                            "bound MB", "within", "PSS per rank MB", "shared per rank MB",
                            "peak RSS per rank MB"], rows))
    print(body)
    if args.record:
        common.record("node_memory", "A node's memory: replicated rows once per node", body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
