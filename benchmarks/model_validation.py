"""The scaling model (``benchmarks/model.py``) against runs on this machine: MNIST [1024,1024],
1, 2 and 4 ranks (4 oversubscribed on 2 cores), and 2 ranks under simulated networks
(``MPIDL_SIMULATE_NETWORK``) standing in for 1,024 nodes.  Run by ``model.py --validate``.

Each run's per-rank compute speed (rows per kernel second, from the scoring history's
``compute_seconds``) is measured; the model predicts the rest: -2's iteration length, the
allreduce (shared memory here: ``netmodel.INTERCONNECTS['shm']``, or the simulated network),
the small allreduce, and ``fixed`` seconds per iteration (Python, the control record), measured
once on the plain 2-rank run.  Efficiency is samples/s over ranks x the 1-rank samples/s, for
the measurement and for the prediction alike.  Medians over ``--repeats`` interleaved rounds.
"""

from __future__ import annotations

import os
import statistics
from dataclasses import replace

import common
from model import INTERCONNECTS, MNIST_INPUTS, Setup, iteration, model_bytes

from mpidl.netmodel import parse_simulation

SLOW = "alpha=5e-4,beta=2e-8,ranks=1024"   # ~0.87 s per 21.5 MB allreduce: a slow network
CONFIGS = [("1 rank", 1, ""), ("2 ranks", 2, ""), ("4 ranks (2 cores)", 4, ""),
           ("2 ranks, simulated 25gbe x 1024", 2, "25gbe,ranks=1024"),
           ("2 ranks, simulated slow x 1024", 2, SLOW)]


def run(params: dict, ranks: int, network: str, tag: str) -> dict:
    """One training; the simulated network through the environment."""
    if network:
        os.environ["MPIDL_SIMULATE_NETWORK"] = network
    try:
        return common.run_mpidl(params, 1, ranks, tag=tag)
    finally:
        os.environ.pop("MPIDL_SIMULATE_NETWORK", None)


def phases(info: dict) -> dict:
    """Per-run sums over the history: compute, allreduce, wait seconds; rows per rank per
    kernel second; training seconds without scoring; iterations."""
    rows = info["scoring_history"]
    total = {k: sum(r[f"{k}_seconds"] for r in rows) for k in ("compute", "allreduce", "wait")}
    busy = rows[-1]["duration"] - sum(r["scoring_seconds"] for r in rows[:-1])
    total.update(rank_speed=info["samples"] / info["nranks"] / total["compute"], busy=busy,
                 iterations=info["iterations"], speed=info["speed"])
    return total


def fixed_seconds(p: dict) -> float:
    """Seconds per iteration outside compute, the model allreduce and the wait."""
    return max(0.0, (p["busy"] - p["compute"] - p["allreduce"] - p["wait"]) / p["iterations"])


def predict(label_ranks_net, p: dict, base: Setup, one_speed: float) -> float:
    """The model's efficiency for one config, with that run's measured per-rank speed."""
    _, ranks, network = label_ranks_net
    sim = parse_simulation(network, ranks) if network else None
    net = sim.net if sim else INTERCONNECTS["shm"]
    setup = replace(base, speed=p["rank_speed"], net=net)
    it = iteration(setup, ranks, sim.ranks if sim else None)
    one = iteration(replace(base, speed=one_speed), 1)["speed"]
    return it["speed"] / (ranks * one)


def main(a) -> None:
    train, test = common.mnist_h5()
    hidden = [int(h) for h in a.hidden.split(",")]
    params = dict(training_frame=train, validation_frame=test, response_column="C785",
                  hidden=hidden, epochs=a.epochs, seed=1, replicate_training_data=False,
                  train_samples_per_iteration=-2, score_training_samples=100,
                  score_validation_samples=0, score_duty_cycle=0.0)
    measured = {c[0]: [] for c in CONFIGS}
    for r in range(a.repeats):
        for c in CONFIGS:
            measured[c[0]].append(phases(run(params, c[1], c[2], f"model_{r}_{c[1]}")))
            print(c[0], measured[c[0]][-1], flush=True)
    base = Setup(model_bytes([MNIST_INPUTS, *hidden, 10]), 0.0, INTERCONNECTS["shm"],
                 epochs=a.epochs)
    rows = []
    for r in range(a.repeats):
        one = measured["1 rank"][r]
        base = replace(base, fixed=fixed_seconds(measured["2 ranks"][r]))
        for c in CONFIGS:
            p = measured[c[0]][r]
            eff = p["speed"] / (c[1] * one["speed"])
            rows.append((c[0], eff, predict(c, p, base, one["rank_speed"]), p))
    fixed = statistics.median(fixed_seconds(p) for p in measured["2 ranks"])
    body = _report(rows, a) + (f"\nfixed: {1e3 * fixed:.1f} ms per iteration outside compute, "
                               "allreduce and wait (2 ranks, median).\n")
    print(body)
    if a.record:
        common.record(a.record_as, f"The scaling model against this machine, [{a.hidden}]",
                      body)


def _report(rows, a) -> str:
    out = []
    for label, *_ in CONFIGS:
        mine = [r for r in rows if r[0] == label]
        eff = [r[1] for r in mine]
        pred = [r[2] for r in mine]
        err = [100 * (p - e) / e for _, e, p, _ in mine]
        p = mine[-1][3]
        out.append([label, f"{p['speed']:.0f}", f"{p['rank_speed']:.0f}",
                    f"{100 * statistics.median(eff):.1f} % ({100 * min(eff):.1f}-"
                    f"{100 * max(eff):.1f})", f"{100 * statistics.median(pred):.1f} %",
                    f"{statistics.median(err):+.1f} % ({min(err):+.1f}..{max(err):+.1f})",
                    f"{1e3 * p['allreduce'] / p['iterations']:.1f}",
                    f"{1e3 * p['wait'] / p['iterations']:.1f}", p["iterations"]])
    return (f"MNIST [{a.hidden}], {a.epochs} epoch, -2 (target 0.05), train_while_waiting on, "
            f"1 thread per rank, {a.repeats} interleaved round(s); medians, range in brackets; "
            "speed and per-iteration columns from the last round.\n\n"
            + common.table(["run", "samples/s", "rank rows/s (kernel)", "measured efficiency",
                            "predicted", "prediction error", "allreduce ms/iter",
                            "wait ms/iter", "iterations"], out))
