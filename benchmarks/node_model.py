"""One model per node (``node_shared_model``) against the other ways to use two cores on MNIST.

    python benchmarks/node_model.py --repeats 3 --seeds 3 --record

Throughput: three ways to put two cores on one model, side by side in interleaved rounds, on
MNIST (60,000 rows, replicated, H2O's default train_samples_per_iteration -2), hidden
[200, 200] and [1024, 1024], a fraction of an epoch each:

- 2 ranks sharing a model: ``mpirun -n 2``, 1 thread each, ``node_shared_model = true`` (one
  node: the two ranks train one buffer in a shared window, no model allreduce);
- 1 rank x 2 threads: Hogwild threads inside one process (what H2O's node does);
- 2 separate ranks: ``mpirun -n 2``, 1 thread each, model averaging (today's default).

Samples/s is H2O's: training time excluding scoring, from the last scoring-history row.

Accuracy: MNIST test error after 1 epoch, hidden [200, 200], over several seeds, of
``node_shared_model`` on 2 pretend nodes of 2 ranks (``MPIDL_RANKS_PER_NODE=2 mpirun -n 4``:
two leaders average) against today's 4-rank model averaging (``mpirun -n 4``).

Means over rounds / seeds with the spread (min-max).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys

import common

SHAPES = {"[200, 200]": ([200, 200], 0.2), "[1024, 1024]": ([1024, 1024], 0.02)}
WAYS = (("2 ranks sharing a model", 2, 1, True),      # name, ranks, threads, node model
        ("1 rank x 2 threads", 1, 2, False),
        ("2 separate ranks (model averaging)", 2, 1, False))


def spread(xs: list[float], fmt: str = "{:.0f}") -> str:
    """mean (min-max) of ``xs``."""
    return (f"{fmt.format(statistics.mean(xs))} "
            f"({fmt.format(min(xs))}-{fmt.format(max(xs))})")


def throughput(train_h5: str, hidden: list[int], epochs: float, ranks: int, threads: int,
               node_model: bool, tag: str) -> float:
    """Samples/s of one short run (training time excluding scoring)."""
    params = {"training_frame": train_h5, "response_column": "C785", "hidden": hidden,
              "epochs": epochs, "seed": 1, "score_training_samples": 500,
              "node_shared_model": node_model}
    return common.run_mpidl(params, threads, ranks, tag=tag)["speed"]


def test_error(train_h5: str, test_h5: str, seed: int, node_model: bool) -> float:
    """Test error after 1 epoch of [200, 200] on 4 ranks x 1 thread: model averaging among
    the 4, or one model per pretend node of 2 ranks averaged among the 2 leaders."""
    params = {"training_frame": train_h5, "validation_frame": test_h5,
              "response_column": "C785", "hidden": [200, 200], "epochs": 1, "seed": seed,
              "score_training_samples": 1000, "node_shared_model": node_model}
    os.environ.pop("MPIDL_RANKS_PER_NODE", None)
    if node_model:
        os.environ["MPIDL_RANKS_PER_NODE"] = "2"
    try:
        info = common.run_mpidl(params, 1, 4, tag=f"node_model_err_{int(node_model)}_{seed}")
    finally:
        os.environ.pop("MPIDL_RANKS_PER_NODE", None)
    return info["validation_metrics"]["classification_error"]


def throughput_table(train_h5: str, repeats: int) -> str:
    """Samples/s of the three ways on both shapes, interleaved rounds."""
    speeds = {(s, w[0]): [] for s in SHAPES for w in WAYS}
    for i in range(repeats):
        for shape, (hidden, epochs) in SHAPES.items():
            for name, ranks, threads, node_model in WAYS:
                sps = throughput(train_h5, hidden, epochs, ranks, threads, node_model,
                                 f"node_model_tp_{i}")
                speeds[shape, name].append(sps)
                print(f"round {i + 1} {shape} {name}: {sps:.0f} samples/s", flush=True)
    rows = [[shape, f"{epochs:g}"] + [spread(speeds[shape, w[0]]) for w in WAYS]
            for shape, (_, epochs) in SHAPES.items()]
    return common.table(["hidden", "epochs"] + [f"{w[0]}, samples/s" for w in WAYS], rows)


def error_table(train_h5: str, test_h5: str, seeds: int) -> str:
    """1-epoch test error (%) of the two 4-rank set-ups over ``seeds`` seeds."""
    errs = {True: [], False: []}
    for seed in range(1, seeds + 1):
        for node_model in (True, False):
            err = 100 * test_error(train_h5, test_h5, seed, node_model)
            errs[node_model].append(err)
            print(f"seed {seed} node_shared_model={node_model}: test error {err:.2f} %",
                  flush=True)
    rows = [["2 pretend nodes x 2 ranks, node_shared_model (2 leaders average)",
             spread(errs[True], "{:.2f}"), " ".join(f"{e:.2f}" for e in errs[True])],
            ["4 ranks, model averaging (today)", spread(errs[False], "{:.2f}"),
             " ".join(f"{e:.2f}" for e in errs[False])]]
    return common.table(["4 ranks x 1 thread", "test error %, mean (min-max)",
                         "per seed"], rows)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeats", type=int, default=3, help="interleaved throughput rounds")
    ap.add_argument("--seeds", type=int, default=3, help="seeds of the 1-epoch test error")
    ap.add_argument("--record", action="store_true", help="write the tables to RESULTS.md")
    args = ap.parse_args(argv)
    train_h5, test_h5 = common.mnist_h5()
    speed = throughput_table(train_h5, args.repeats)
    error = error_table(train_h5, test_h5, args.seeds)
    body = (f"Samples/s (training time excluding scoring) of three ways to train one model on "
            f"two cores, MNIST replicated, train_samples_per_iteration -2, {args.repeats} "
            f"interleaved rounds, mean (min-max):\n\n{speed}\n"
            f"MNIST test error after 1 epoch, hidden [200, 200], seeds 1-{args.seeds}:\n\n"
            f"{error}\nThe machine has 2 cores shared with other users' jobs while this ran "
            "(4 ranks oversubscribe it), so the figures are noisy; compare within a round.\n")
    print(body)
    if args.record:
        common.record("node_model", "One model per node (node_shared_model)", body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
