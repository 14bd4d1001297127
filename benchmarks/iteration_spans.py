"""Where one iteration's seconds go outside the kernels and the model allreduce (the scaling
model's fixed cost, ``docs/scaling.md``), step by step, on 2 ranks.

    python benchmarks/iteration_spans.py --repeats 3 [--hidden 200,200 --epochs 2.4]
    git worktree add /tmp/main-ref main    # then, before against after in interleaved rounds:
    python benchmarks/iteration_spans.py --repeats 3 --compare /tmp/main-ref --record

Runs the job ``benchmarks/fixed_cost.py`` runs for one network size (MNIST, -2 with
``target_ratio_comm_to_comp`` 0.5, train_while_waiting on, 2 ranks x 1 thread), under
``mpirun``, with every per-iteration step of the training loop wrapped in a
``time.perf_counter`` span (this script's ``--worker`` side, on each rank).  perf_counter is
CLOCK_MONOTONIC, one clock for both ranks of the machine, so the ranks' spans line up.
Prints, per step, milliseconds per iteration on rank 0 (mean over the iterations of a run,
then mean ± standard deviation over the runs), and the benchmark's ``fixed`` (the scoring
history's seconds outside compute, allreduce and wait, per iteration) of the same runs.
Iterations that score are left out of the step table (scoring is its own phase).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

# (label, module, attribute path): what the worker wraps; nested spans are subtracted from
# the spans that hold them when the table is made
SPANS = [
    ("train step", "mpidl.train.loop", "Trainer._train"),
    ("average step", "mpidl.train.loop", "Trainer._average"),
    ("decide step", "mpidl.train.loop", "Trainer._decide"),
    ("checkpoint step", "mpidl.train.loop", "Trainer._checkpoint"),
    ("kernel", "mpidl.train.kernel_call", "train_rows"),
    ("row order", "mpidl.train.rows", "RowPlan.order"),
    ("thread seeds", "mpidl.train.kernel_call", "thread_seeds"),
    ("kernel hyper-parameters", "mpidl.train.control", "Control.kernel_hyper"),
    ("train while waiting", "mpidl.train.loop", "train_while_waiting"),
    ("counts allreduce", "mpidl.train.loop", "iteration_counts"),
    ("model allreduce", "mpidl.train.averaging", "ModelCopies.combine"),
    ("broadcasts", "mpidl.comm", "MPIComm.bcast_obj"),
    ("finite check + clock", "mpidl.train.root", "RootState.before_scoring"),
    ("control record", "mpidl.train.root", "RootState.control"),
    ("tuner", "mpidl.train.root", "RootState.observe"),
    ("scoring", "mpidl.train.loop", "Trainer._score"),
]
STEPS = ("train step", "average step", "decide step", "checkpoint step")


def _wrap(events: list, label: str, module: str, path: str) -> None:
    """Replace ``module.path`` by a function that appends (label, start, end) to ``events``."""
    import importlib
    owner = importlib.import_module(module)
    *outer, name = path.split(".")
    for part in outer:
        owner = getattr(owner, part)
    inner = getattr(owner, name)

    def timed(*args, **kwargs):
        t0 = time.perf_counter()
        try:
            return inner(*args, **kwargs)
        finally:
            events.append((label, t0, time.perf_counter()))
    setattr(owner, name, timed)


def worker(out_prefix: str, argv: list[str]) -> None:
    """One rank: wrap the spans, train (``python -m mpidl`` argv), write the spans as JSON."""
    from mpidl import cli
    from mpidl.comm import world
    events: list = []
    for label, module, path in SPANS:
        _wrap(events, label, module, path)
    try:
        cli.main(argv)
    except SystemExit as e:
        if e.code:
            raise
    with open(f"{out_prefix}.{world().rank}.json", "w") as f:
        json.dump(events, f)


def per_iteration(events: list) -> list[dict]:
    """Rank 0's spans grouped by iteration (from a train step's start to the next one's):
    {label: seconds} with nested spans taken out of their holders, plus ``iteration``."""
    starts = [e[1] for e in events if e[0] == "train step"]
    bounds = starts + [max(e[2] for e in events if e[0] == "checkpoint step")]
    out = []
    for lo, hi in zip(bounds[:-1], bounds[1:]):
        inside = sorted((e for e in events if lo <= e[1] and e[2] <= hi), key=lambda e: e[1])
        own = {}
        for label, t0, t1 in inside:
            held = sum(c[2] - c[1] for c in _children(inside, label, t0, t1))
            own[label] = own.get(label, 0.0) + (t1 - t0) - held
        own["iteration"] = hi - lo
        out.append(own)
    return out


def _children(inside: list, label: str, t0: float, t1: float) -> list:
    """The spans directly inside (label, t0, t1): held by no other span inside it."""
    within = [e for e in inside if t0 <= e[1] and e[2] <= t1 and (e[0], e[1], e[2]) !=
              (label, t0, t1)]
    return [e for e in within if not any(o is not e and o[1] <= e[1] and e[2] <= o[2]
                                         for o in within)]


def run_once(hidden: list[int], epochs: float, tag: str,
             tree: str | None = None) -> tuple[dict, float, int]:
    """One 2-rank run of the mpidl in ``tree`` (a checkout; None: this one): (mean ms per
    non-scoring iteration per step, fixed ms, iterations)."""
    import common
    from fixed_cost import job_params
    from model_validation import fixed_seconds, phases
    cmd, model, env = common.prepare_run(job_params(hidden, epochs), 1, 2, tag)
    env["NUMBA_NUM_THREADS"] = "1"      # the worker imports numba before the command does
    if tree:
        env["PYTHONPATH"] = os.path.abspath(tree)
    prefix = str(common.WORKDIR / f"{tag}.spans")
    cmd = cmd[:cmd.index("-m")] + [os.path.abspath(__file__), "--worker", prefix] + \
        cmd[cmd.index("mpidl") + 1:]
    r = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=common.ROOT)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed: {(r.stderr or r.stdout)[-800:]}")
    with open(f"{prefix}.0.json") as f:
        its = [i for i in per_iteration(json.load(f)) if "scoring" not in i]
    info = common.inspect(str(model))
    info["speed"] = info["scoring_history"][-1]["training_speed"]
    labels = {k for i in its for k in i}
    mean = {k: 1e3 * sum(i.get(k, 0.0) for i in its) / len(its) for k in labels}
    return mean, 1e3 * fixed_seconds(phases(info)), info["iterations"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--hidden", default="200,200")
    ap.add_argument("--epochs", type=float, default=2.4)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--compare", metavar="TREE",
                    help="another checkout (e.g. main's) to time in the same rounds")
    ap.add_argument("--record", action="store_true")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    a, rest = ap.parse_known_args()
    if a.worker:
        worker(a.worker, rest)
        return
    hidden = [int(h) for h in a.hidden.split(",")]
    load0 = os.getloadavg()[0]
    trees = ([a.compare] if a.compare else []) + [None]
    runs = {t: [] for t in trees}
    for r in range(a.repeats):
        for t in trees:
            runs[t].append(run_once(hidden, a.epochs, f"spans_{r}_{trees.index(t)}", t))
    body = "".join(f"### {'the checkout ' + t if t else 'this checkout'}\n\n"
                   f"{report(runs[t], hidden, load0)}\n" for t in trees)
    print(body)
    if a.record:
        import common
        common.record("fixed-cost-spans", "Where the fixed cost per iteration goes", body)


def report(runs: list, hidden: list[int], load0: float) -> str:
    """The table: per step, ms per iteration on rank 0, mean ± sd over the runs."""
    import common
    labels = ["iteration"] + [s[0] for s in SPANS if s[0] != "scoring"]
    rows = []
    for label in labels:
        ms = [r[0].get(label, 0.0) for r in runs]
        sd = statistics.stdev(ms) if len(ms) > 1 else 0.0
        rows.append([label + (" (own time)" if label in STEPS else ""),
                     f"{statistics.mean(ms):.2f} ± {sd:.2f}"])
    fixed = [r[1] for r in runs]
    return (f"MNIST {hidden}, 2 ranks x 1 thread, {len(runs)} run(s), "
            f"{statistics.mean(r[2] for r in runs):.0f} iterations each (mean); "
            "ms per non-scoring iteration on rank 0, mean ± sd over the runs; a step's own "
            "time excludes the spans inside it.\n\n"
            + common.table(["span", "ms per iteration"], rows)
            + f"\nfixed (scoring history): {statistics.mean(fixed):.2f} ± "
            f"{statistics.stdev(fixed) if len(fixed) > 1 else 0.0:.2f} ms per iteration.  "
            f"Load average (1 min) at start / end: {load0:.1f} / {os.getloadavg()[0]:.1f}.\n")


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    main()
