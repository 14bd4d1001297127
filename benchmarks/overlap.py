"""averaging_overlap against blocking averaging (issue 16 point 5): MNIST, 1 epoch, 2 ranks x 1
thread, over seeds; each seed's runs interleaved in one round.

    python benchmarks/overlap.py --seeds 1 2 3 --record

Per seed: one rank alone, then 2 ranks
blocking and overlapped under two simulated networks standing for 1,024 nodes
(``MPIDL_SIMULATE_NETWORK``): InfiniBand HDR, and a slow network (``model_validation.SLOW``,
~0.1 s per [200,200] allreduce) where the difference shows.  Reported: test error (the whole
MNIST test set), samples/s (training time without scoring) over the no-communication speed
(the same run's training seconds less its model allreduce and waits; and, noisier, twice the
1-rank run's), and the scaling model's samples/s for each run (``benchmarks/model.py`` with
that run's measured kernel speed, ``fixed`` from the same seed's blocking HDR run; with
overlap the real shared-memory transfer is the floor that compute does not hide, since MPICH
progresses it only inside MPI calls, and the run's scored iterations are where the ranks
meet).  Means over seeds with the standard deviation.
"""

from __future__ import annotations

import argparse
import statistics
from dataclasses import replace

import common
from model import INTERCONNECTS, MNIST_INPUTS, Setup, iteration, model_bytes
from model_validation import SLOW, fixed_seconds, phases, run

from mpidl.netmodel import allreduce_seconds, parse_simulation

HDR = "hdr,ranks=1024"
CONFIGS = [("blocking, HDR x 1024", HDR, False), ("overlap, HDR x 1024", HDR, True),
           ("blocking, slow x 1024", SLOW, False), ("overlap, slow x 1024", SLOW, True)]


def measure(params: dict, ranks: int, network: str, overlap: bool, tag: str) -> dict:
    """One run's ``model_validation.phases`` with its test error and the share of its
    iterations that scored (where the ranks meet)."""
    info = run(dict(params, averaging_overlap=overlap), ranks, network, tag)
    p = phases(info)
    p["error"] = float(info["validation_metrics"]["classification_error"])
    p["meetings"] = len(info["scoring_history"]) / info["iterations"]
    return p


def one_seed(params: dict, seed: int, base: Setup) -> dict:
    """{config label: measured phases with ``predicted`` samples/s} for one seed, and the
    1-rank run under "1 rank"."""
    params = dict(params, seed=seed)
    runs = {"1 rank": measure(params, 1, "", False, f"overlap_{seed}_1")}
    for i, (label, network, overlap) in enumerate(CONFIGS):
        runs[label] = measure(params, 2, network, overlap, f"overlap_{seed}_{i}")
        print(seed, label, runs[label], flush=True)
    base = replace(base, fixed=fixed_seconds(runs[CONFIGS[0][0]]))
    for label, network, overlap in CONFIGS:
        p, sim = runs[label], parse_simulation(network, 2)
        setup = replace(base, speed=p["rank_speed"], net=sim.net, overlap=overlap,
                        meetings=p["meetings"])
        p["predicted"] = iteration(setup, 2, sim.ranks)["speed"]
    return runs


def no_communication(p: dict) -> float:
    """samples/s of the run over its no-communication speed: the same samples in its training
    seconds less the model allreduce (what was not hidden) and the waits."""
    return (p["busy"] - p["allreduce"] - p["wait"]) / p["busy"]


def _mean_sd(values, scale: float = 1.0, digits: int = 2) -> str:
    values = [scale * v for v in values]
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.mean(values):.{digits}f} ± {sd:.{digits}f}"


def report(results: list[dict], a) -> str:
    rows = []
    for label in [c[0] for c in CONFIGS]:
        runs = [r[label] for r in results]
        alone = [r[label]["speed"] / (2 * r["1 rank"]["speed"]) for r in results]
        gap = [100 * (p["predicted"] - p["speed"]) / p["speed"] for p in runs]
        rows.append([label, _mean_sd([p["error"] for p in runs], 100) + " %",
                     _mean_sd([p["speed"] for p in runs], 1, 0),
                     _mean_sd([no_communication(p) for p in runs], 100, 1) + " %",
                     _mean_sd(alone, 100, 1) + " %",
                     _mean_sd([1e3 * p["allreduce"] / p["iterations"] for p in runs], 1, 1),
                     _mean_sd([p["predicted"] for p in runs], 1, 0),
                     f"{statistics.mean(gap):+.1f} % ({min(gap):+.1f}..{max(gap):+.1f})"])
    return (f"MNIST [{a.hidden}], {a.epochs} epoch, 2 ranks x 1 thread, -2, H2O's scoring "
            f"defaults, seeds {', '.join(map(str, a.seeds))}; mean ± standard deviation over "
            "the seeds.  No-communication: the run's training seconds less its (exposed) "
            "model allreduce and waits; 2 x one rank: the same seed's 1-rank run, a different "
            "minute of a shared machine.  Model: benchmarks/model.py with the run's kernel "
            "speed, `fixed` from the seed's blocking HDR run, the real transfer as overlap's "
            "floor and the run's share of scored iterations as its meetings.\n\n"
            + common.table(["run", "test error", "samples/s", "of no-communication",
                            "of 2 x one rank", "allreduce ms/iteration (exposed)",
                            "model samples/s", "model vs measured (mean, range)"], rows))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    ap.add_argument("--hidden", default="200,200")
    ap.add_argument("--epochs", type=float, default=1.0)
    ap.add_argument("--record", action="store_true")
    a = ap.parse_args()
    train, test = common.mnist_h5()
    hidden = [int(h) for h in a.hidden.split(",")]
    params = dict(training_frame=train, validation_frame=test, response_column="C785",
                  hidden=hidden, epochs=a.epochs, replicate_training_data=False,
                  train_samples_per_iteration=-2)
    nbytes = model_bytes([MNIST_INPUTS, *hidden, 10])
    base = Setup(nbytes, 0.0, INTERCONNECTS["shm"], epochs=a.epochs,
                 floor=allreduce_seconds(nbytes, 2, INTERCONNECTS["shm"]))
    results = [one_seed(params, seed, base) for seed in a.seeds]
    body = report(results, a)
    print(body)
    if a.record:
        common.record("overlap16", "averaging_overlap against blocking averaging", body)


if __name__ == "__main__":
    main()
