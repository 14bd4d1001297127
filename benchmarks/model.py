"""The scaling model (issue 16, ``docs/scaling.md``): samples/s and efficiency for 1 .. 1,024
nodes, predicted from a measured per-rank compute speed, the allreduce cost of
``mpidl/netmodel.py`` on a named interconnect, -2's iteration length rule
(``mpidl/train/schedule.py``, the code itself) and stragglers; and its validation against runs
on this machine.

    python benchmarks/model.py --predict --hidden 1024,1024 --speed 900 --network hdr
    python benchmarks/model.py --validate --epochs 0.25 --repeats 2 --record

One iteration on N nodes (one rank each, ``speed`` rows/s over its threads):

    tspi      = -2's rule for N trainers, per-row time 1 / speed, planned overhead
                max(0.1 + 2 floor(log2 N) T_ar, overhead + mean wait), clamps included
    t_c       = tspi / (N speed)                      the mean rank's compute
    T_ar      = netmodel.allreduce_seconds(model bytes, N)
    overhead  = T_ar + T_small(16 N + 40 bytes, N) + fixed     (fixed: measured here,
                base + rate x model bytes: benchmarks/fixed_cost.py)
    t_it      = s t_c + overhead        s >= 1: the slowest rank's compute over the mean's
    samples   = tspi (+ with train_while_waiting the other ranks' extra rows, at most their
                share again: (N - 1) / N tspi min(1, s - 1))
    overlap   = with averaging_overlap, T_ar in the overhead becomes what the next iteration's
                compute leaves of it, max(floor, T_ar - s t_c), plus the snapshot and the fold
                (FOLD_S_PER_BYTE x model bytes); floor: the part that is not hidden (the real
                transfer where MPI progresses it only inside MPI calls; 0 with asynchronous
                progress); a share ``meetings`` of the iterations (those that score, the last)
                wait for their allreduce at once and pay all of T_ar
    speed_N   = samples / t_it;  efficiency = speed_N / (N speed_1)

Stragglers: ``--slowdown S`` (one rank S times slower), or ``--cv C`` (ranks' speeds spread
with coefficient of variation C: the slowest of N is about 1 + C sqrt(2 ln N) times the mean).
A simulated network (``MPIDL_SIMULATE_NETWORK``) is the same model with the allreduce cost of
``comm_ranks`` ranks and the compute of the ranks that really run.
"""

from __future__ import annotations

import argparse
import math
import sys
from dataclasses import dataclass, replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from mpidl.netmodel import INTERCONNECTS, Interconnect, allreduce_seconds  # noqa: E402
from mpidl.train.schedule import autotune_tspi, planned_overhead  # noqa: E402

NODES = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024]
MNIST_ROWS = 60000
MNIST_INPUTS = 717          # MNIST's 784 pixels less the constant columns mpidl drops
ADADELTA_SLOTS = 2          # optimizer state per weight besides the weight
FOLD_S_PER_BYTE = 6.5e-10   # averaging_overlap's snapshot copy and fold: 3 + 11 ms for the
                            # 21.5 MB [1024,1024] model here (one core, numpy copy + numba)
FIXED_BASE_S = 1.83e-3      # the fixed cost per iteration, base + rate x model bytes: the
FIXED_S_PER_BYTE = 4.6e-11  # least-squares fit of RESULTS.md 'scaling-fixed-cost' (2 ranks)


def fixed_seconds(nbytes: int) -> float:
    """Seconds per iteration outside compute, collectives and waiting, for a model of
    ``nbytes`` averaged bytes (FIXED_BASE_S + FIXED_S_PER_BYTE x nbytes)."""
    return FIXED_BASE_S + FIXED_S_PER_BYTE * nbytes


def model_bytes(units: list[int], slots: int = ADADELTA_SLOTS) -> int:
    """Bytes of the averaged buffer: float32 weights and biases, each with ``slots`` floats of
    optimizer state (ADADELTA: 2)."""
    params = sum(units[i] * units[i + 1] + units[i + 1] for i in range(len(units) - 1))
    return 4 * params * (1 + slots)


@dataclass(frozen=True)
class Setup:
    """A study: ``nbytes`` model bytes; ``speed`` rows/s of one rank; ``rows`` training rows;
    ``epochs``, ``target`` (-2's target_ratio_comm_to_comp); ``fixed``: seconds per
    iteration besides compute and collectives (Python, the control record; None: the measured fit, fixed_seconds);
    ``slowdown``: the slowest rank's compute over the mean's (1: none); ``cv``: when > 0,
    the slowdown of N ranks is 1 + cv sqrt(2 ln N); ``fill``: train_while_waiting; ``cores``:
    ranks beyond it share cores (0: one core or more each); ``tspi_per_rank``: a fixed
    train_samples_per_iteration of this many rows per rank (-1 with replicated data: the
    training rows), 0 for -2; ``overlap``: averaging_overlap; ``floor``: with it, seconds of
    each model allreduce that compute does not hide (0: MPI progresses it in the
    background); ``meetings``: with it, the share of iterations after which the ranks meet
    (scoring, the end) and wait for the whole allreduce."""

    nbytes: int
    speed: float
    net: Interconnect
    rows: int = MNIST_ROWS
    epochs: float = 10.0
    target: float = 0.05
    fixed: float | None = None  # seconds; None: fixed_seconds(nbytes), the measured fit
    slowdown: float = 1.0
    cv: float = 0.0
    fill: bool = True
    cores: int = 0
    tspi_per_rank: int = 0
    overlap: bool = False
    floor: float = 0.0
    meetings: float = 0.0


def slowest(setup: Setup, ranks: int) -> float:
    """The slowest rank's compute time over the mean rank's."""
    if ranks == 1:
        return 1.0
    if setup.cv > 0:
        return 1.0 + setup.cv * math.sqrt(2 * math.log(ranks))
    return setup.slowdown


def iteration(setup: Setup, ranks: int, comm_ranks: int | None = None) -> dict:
    """The model's iteration on ``ranks`` ranks, with the model allreduce's cost for
    ``comm_ranks`` (default ``ranks``; as MPIDL_SIMULATE_NETWORK, which slows the model
    allreduce only): tspi, seconds per phase, samples/s (see the module docstring)."""
    comm_ranks = comm_ranks or ranks
    speed = setup.speed * (min(1.0, setup.cores / ranks) if setup.cores else 1.0)
    t_ar = allreduce_seconds(setup.nbytes, comm_ranks, setup.net) if ranks > 1 else 0.0
    small = allreduce_seconds(16 * ranks + 40, ranks, setup.net) if ranks > 1 else 0.0
    s = slowest(setup, ranks)
    exposed, wait = t_ar, 0.0
    fixed = setup.fixed if setup.fixed is not None else fixed_seconds(setup.nbytes)
    for _ in range(50):         # -2 sees the mean wait and the exposed allreduce, which
        overhead = exposed + small + fixed      # depend on the iteration length
        planned = planned_overhead(ranks, t_ar, overhead + wait) if ranks > 1 else 0.0
        tspi = (setup.tspi_per_rank * ranks if setup.tspi_per_rank else
                autotune_tspi(setup.rows, ranks, setup.epochs, 1 / speed, planned, setup.target))
        t_c = tspi / (ranks * speed)
        idle = 0.0 if setup.fill else (ranks - 1) / ranks * (s - 1) * t_c
        hidden = t_ar
        if setup.overlap and ranks > 1:
            hidden = ((1 - setup.meetings) * max(setup.floor, t_ar - s * t_c)
                      + setup.meetings * t_ar + FOLD_S_PER_BYTE * setup.nbytes)
        if abs(idle - wait) < 1e-9 and abs(hidden - exposed) < 1e-9:
            break
        wait, exposed = idle, hidden
    overhead = exposed + small + fixed
    extra = (ranks - 1) / ranks * tspi * min(1.0, s - 1) if setup.fill and ranks > 1 else 0.0
    seconds = s * t_c + overhead
    return {"ranks": ranks, "tspi": tspi, "compute": t_c, "allreduce": exposed,
            "overhead": overhead, "seconds": seconds, "speed": (tspi + extra) / seconds}


def efficiency(setup: Setup, ranks: int, comm_ranks: int | None = None) -> float:
    """samples/s on ``ranks`` over ``ranks`` x the one-rank samples/s (one rank unhindered)."""
    one = iteration(replace(setup, slowdown=1.0, cv=0.0), 1)["speed"]
    return iteration(setup, ranks, comm_ranks)["speed"] / (ranks * one)


def prediction_table(setup: Setup, nodes=NODES) -> str:
    """Markdown rows: nodes, samples/s, efficiency, samples per iteration, seconds per
    iteration, model allreduce ms."""
    rows = []
    for n in nodes:
        it = iteration(setup, n)
        rows.append([n, f"{it['speed']:.0f}", f"{100 * efficiency(setup, n):.1f} %",
                     it["tspi"], f"{it['seconds']:.3f}", f"{1e3 * it['allreduce']:.2f}"])
    return _table(["nodes", "samples/s", "efficiency", "samples/iteration", "s/iteration",
                   "allreduce ms"], rows)


def largest_at_least(setup: Setup, share: float, nodes=NODES) -> int:
    """The largest node count in ``nodes`` whose efficiency is >= ``share`` (0 if none)."""
    return max([n for n in nodes if efficiency(setup, n) >= share], default=0)


# Per-rank speeds measured here (benchmarks/RESULTS.md, quiet machine): [1024,1024] 1 rank x 1
# thread 903 samples/s ('scaling'); [200,200] 1 rank x 2 threads 8868 samples/s
# ('mnist_200x200_2t').  H2O's world-record network: 2,000 epochs of 60,000 rows in about 4
# hours on 4 nodes (../shared/docs/h2o_published_figures.md): 2,083 samples/s per node.
MEASURED_SPEED = {(1024, 1024): 903.0, (200, 200): 8868.0}
H2O_NODE_SPEED = 2000 * MNIST_ROWS / (4 * 3600) / 4


def evidence() -> str:
    """The tables RESULTS.md gives: [1024,1024] and [200,200] with H2O's defaults on
    InfiniBand HDR (blocking averaging as H2O, and with train_while_waiting and a 5 % speed
    spread), the same with 16x faster nodes, with averaging_overlap (the allreduce hidden
    behind compute, the fold paid; also on 10 GbE, blocking and overlapped, for contrast), and
    H2O's published multi-node MNIST study."""
    out = []
    hdr = INTERCONNECTS["hdr"]
    for hidden, speed in MEASURED_SPEED.items():
        nbytes = model_bytes([MNIST_INPUTS, *hidden, 10])
        for label, setup in [
                ("blocking averaging, no stragglers", Setup(nbytes, speed, hdr, fill=False)),
                ("train_while_waiting, speeds spread 5 %", Setup(nbytes, speed, hdr, cv=0.05)),
                ("blocking, nodes 16x faster than a rank here",
                 Setup(nbytes, 16 * speed, hdr, fill=False)),
                ("averaging_overlap, no stragglers",
                 Setup(nbytes, speed, hdr, fill=False, overlap=True))]:
            out.append(f"**{list(hidden)}**, {nbytes / 1e6:.1f} MB, {label}, {setup.speed:.0f} "
                       f"samples/s per node: 64 nodes {100 * efficiency(setup, 64):.1f} %, "
                       f"largest >= 50 %: {largest_at_least(setup, 0.5)} nodes\n\n"
                       + prediction_table(setup))
    for hidden, speed in MEASURED_SPEED.items():
        nbytes = model_bytes([MNIST_INPUTS, *hidden, 10])
        for label, overlap in (("blocking", False), ("averaging_overlap", True)):
            setup = Setup(nbytes, speed, INTERCONNECTS["10gbe"], fill=False, overlap=overlap)
            out.append(f"**{list(hidden)}**, 10 GbE for contrast, {label}: 64 nodes "
                       f"{100 * efficiency(setup, 64):.1f} %, 1,024 nodes "
                       f"{100 * efficiency(setup, 1024):.1f} %, largest >= 50 %: "
                       f"{largest_at_least(setup, 0.5)} nodes\n")
    world = Setup(model_bytes([MNIST_INPUTS, 1024, 1024, 2048, 10]), H2O_NODE_SPEED,
                  INTERCONNECTS["10gbe"], epochs=64, fill=False, tspi_per_rank=MNIST_ROWS)
    out.append("**H2O's study**: [1024,1024,2048], -1 (each node a whole epoch per "
               f"iteration), 64 epochs, {H2O_NODE_SPEED:.0f} samples/s per node, 10 GbE\n\n"
               + prediction_table(world, [1, 2, 4, 8, 16, 32, 63]))
    return "\n".join(out)


def _table(header, rows) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(map(str, r)) + " |" for r in rows]) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--predict", action="store_true", help="print the predicted table")
    ap.add_argument("--validate", action="store_true", help="measure here and compare")
    ap.add_argument("--evidence", action="store_true", help="the modeled tables of RESULTS.md")
    ap.add_argument("--hidden", default="1024,1024")
    ap.add_argument("--speed", type=float, default=900.0, help="rows/s of one rank")
    ap.add_argument("--network", default="hdr", choices=sorted(INTERCONNECTS))
    ap.add_argument("--epochs", type=float, default=10.0)
    ap.add_argument("--target", type=float, default=0.05)
    ap.add_argument("--cv", type=float, default=0.0)
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--record", action="store_true")
    ap.add_argument("--record-as", default="scaling-model",
                    help="the RESULTS.md section --validate writes")
    a = ap.parse_args()
    units = [MNIST_INPUTS, *map(int, a.hidden.split(",")), 10]
    if a.validate:
        import model_validation
        model_validation.main(a)
        return
    if a.evidence:
        body = evidence()
        print(body)
        if a.record:
            import common
            common.record("scaling-model-predictions", "The scaling model's predictions", body)
        return
    setup = Setup(model_bytes(units), a.speed, INTERCONNECTS[a.network], epochs=a.epochs,
                  target=a.target, cv=a.cv)
    print(prediction_table(setup))


if __name__ == "__main__":
    main()
