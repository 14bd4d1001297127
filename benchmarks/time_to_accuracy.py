"""Time to accuracy: test error against training seconds, H2O-3, mpidl and PyTorch, 2 threads.

    pip install h2o torch==2.13.0 matplotlib               # h2o needs Java 8+
    python benchmarks/time_to_accuracy.py --seeds 3 --budget 8 --record   # all three, ~9 min
    python benchmarks/time_to_accuracy.py --datasets higgs --seeds 1 --budget 20  # a quick trial
    python benchmarks/time_to_accuracy.py --replot /tmp/mpidl-bench/time_to_accuracy.json \\
        --targets higgs=0.36/0.34                 # the last run's curves, other targets

Datasets (``--datasets``, default all): ``mnist``, ``higgs`` and ``covtype``, split once as
benchmarks/parity.py splits them (its ``DATASETS`` and ``prepare``: MNIST 10,000 of the
60,000 training rows and 2,500 of the 10,000 test rows; HIGGS its 10k train / 5k test files;
covtype 20k a seeded 80/20 split), into CSV files all systems read.  The metric is the test
set's classification error as H2O defines it (multinomial: argmax; binomial: at the max-F1
threshold), for PyTorch from ``mpidl.metrics`` on its probabilities.

Systems (``--systems``), each on 2 threads (``--threads``), one curve per seed, seeds
interleaved (seed 1 of every system, then seed 2, ...) so that load on the shared machine
falls on all of them alike:

- ``h2o``: H2O-3 Deep Learning with its defaults ([200,200] Rectifier, ADADELTA), one local JVM
  (``nthreads``).  ``mpidl``: mpidl online with its (H2O's) defaults, ``python -m mpidl
  train``.  ``mpidl-mb``: mpidl with ``MINI_BATCH`` -- ``mini_batch_size = 128``,
  ``adaptive_rate_method = "Adam"``, ``rate = 0.001``, the setting README.md,
  docs/parameters.md and benchmarks/RESULTS.md (``vs_torch_adam``) recommend for mini-batches
  (ADADELTA converges slowly there); ``--set`` adds keys.  Both scored by their own scoring
  history: the test set as validation frame (``score_validation_samples = 0``), one
  evaluation per iteration of a fixed ``train_samples_per_iteration``, no early stopping;
  training seconds of a row = samples / ``training_speed`` (H2O's definition, and mpidl's:
  training time without scoring or setup).  The iteration size gives ``--points``
  evaluations per ``--budget``: budget / points x the samples/s of a probe run per system and
  dataset (4 short scored iterations, the speed between the first and the last, so without
  start-up; each probe runs twice: H2O's first warms its JIT, mpidl's first fills numba's
  cache, and mpidl takes the lower of the two speeds, as the shared machine's load moves it).
  A run trains CAP (2.5) x that speed x budget samples, or until ``max_runtime_secs`` =
  1.25 x budget + 4 (wall, scoring included: the probe is only an estimate).  Early stopping
  is off (``stopping_rounds = 0``, ``classification_stop = -1``) so curves cover the budget.
- ``torch``: PyTorch, the same MLP ([200,200] ReLU, softmax), Adam lr 1e-3, batch 128,
  CrossEntropyLoss, inputs standardized with the training rows' mean and sd and constant
  columns dropped (as H2O does), ``torch.set_num_threads``; evaluated each budget / points
  training seconds, evaluation not timed (vs_torch.py's ``TorchBench``).

Each curve stops after about ``--budget`` training seconds and is cut there.  Over seeds the
error is averaged per evaluation (torch_parity.py ``mean_curve``, cut to the shortest run);
the table gives the training seconds at which that mean curve, smoothed by a running mean over
3 evaluations, first reaches each target error (``smoothed_hit``, never one run's dip), with
the range of the seeds' own smoothed crossings, and the error at the last common evaluation:
mean ± sd (min-max).  ``--targets`` sets them (default ``TARGETS``).  The figure
(``--plot``, default benchmarks/figures/time_to_accuracy.png): one panel per dataset, mean
error against mean training seconds (both axes logarithmic), ± sd shaded.  ``--record``
writes the tables and the figure's link into RESULTS.md (section ``time_to_accuracy``).
Every run's curve is kept as JSON (``--curves``); ``--replot`` redraws the table and the
figure from it without training.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd

import common
import parity
import torch_parity as tp
import vs_torch
from mpidl.errors import UserError
from mpidl.params import parse_override
from vs_h2o import h2o_unavailable, java_version

DATASETS = {"mnist": "mnist", "higgs": "higgs_10k", "covtype": "covtype_20k"}
TARGETS = {"mnist": (0.15, 0.10, 0.07, 0.05), "higgs": (0.40, 0.37, 0.35),
           "covtype": (0.35, 0.30, 0.25, 0.20, 0.15)}
SYSTEMS = ("h2o", "mpidl", "mpidl-mb", "torch")
MINI_BATCH = {"mini_batch_size": 128, "adaptive_rate_method": "Adam", "rate": 0.001}
SCORING = {"score_training_samples": 1000, "score_validation_samples": 0, "stopping_rounds": 0,
           "classification_stop": -1}   # no stop at a training error of 0 (scored rows)
FIGURE = common.HERE / "figures" / "time_to_accuracy.png"
CURVES = common.WORKDIR / "time_to_accuracy.json"
PROBE = {"h2o": 500, "mpidl": 2000, "mpidl-mb": 4000}   # samples per probe iteration
PROBE_ITERATIONS = 4
CAP = 2.5            # a run's epochs: CAP x the probe's samples/s x budget ...


def runtime_cap(budget: float) -> float:
    """... and max_runtime_secs (wall, scoring included), which ends it first."""
    return 1.25 * budget + 4
log = vs_torch.log


@dataclass
class Data:
    """One dataset's split: the CSV files, the response, its task and the target errors."""

    name: str
    spec: parity.Spec
    train_csv: Path
    test_csv: Path
    rows: int
    targets: tuple


def load(name: str, targets: tuple) -> Data:
    spec = parity.DATASETS[DATASETS[name]]
    train_csv, test_csv = parity.prepare(DATASETS[name], spec)
    rows = sum(1 for _ in open(train_csv)) - 1
    return Data(name, spec, train_csv, test_csv, rows, targets)


def probe_params(system: str, rows: int) -> dict:
    """A short run of PROBE_ITERATIONS scored iterations that measures samples/s."""
    n = min(rows, PROBE[system])
    return {"epochs": PROBE_ITERATIONS * n / rows, "train_samples_per_iteration": n,
            "score_each_iteration": True, "seed": 0, **SCORING}


def steady_speed(points: list[tuple]) -> float:
    """Samples/s between the first and the last (samples, training seconds) of a probe's
    history: its speed without the first iteration's start-up."""
    (s0, t0), (s1, t1) = points[0], points[-1]
    return (s1 - s0) / (t1 - t0) if t1 > t0 else s1 / t1


def cut(run: list[tuple], budget: float) -> list[tuple]:
    """The evaluations of a run within the budget (5 % slack for the last one's overshoot)."""
    return [r for r in run if r[1] <= 1.05 * budget]


# ---------------------------------------------------------------------------- H2O
def h2o_history(h2o, frames, d: Data, params: dict) -> list[dict]:
    """Train one H2O model on ``frames`` (train, test as validation): its scoring history."""
    from h2o.estimators import H2ODeepLearningEstimator
    train, test = frames
    m = H2ODeepLearningEstimator(**params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # "Dropping bad and constant columns"
        m.train(x=[c for c in train.names if c != d.spec.response], y=d.spec.response,
                training_frame=train, validation_frame=test)
    hist = m._model_json["output"]["scoring_history"]
    h2o.remove(m)
    rows = [dict(zip(hist.col_header, r)) for r in hist.cell_values]
    return [r for r in rows if float(r["samples"] or 0) > 0]


def h2o_speed(row: dict) -> float:
    """A history row's training_speed ("12345 obs/sec") as a number."""
    return float(re.match(r"\s*([\d.eE+-]+)", str(row["training_speed"])).group(1))


def h2o_runner(h2o, d: Data, a):
    """seed -> [(epochs, training seconds, test error)] of H2O with its defaults."""
    frames = parity.h2o_frames(h2o, d.spec, d.train_csv, d.test_csv)
    for _ in range(2):   # the first warms the JVM's JIT up
        probe = h2o_history(h2o, frames, d, probe_params("h2o", d.rows))
    speed = steady_speed([(float(r["samples"]), float(r["samples"]) / h2o_speed(r))
                          for r in probe])
    interval = max(100, round(speed * a.budget / a.points))
    log(f"{d.name} h2o: probe {speed:.0f} samples/s, {interval} samples per evaluation")

    def run(seed: int) -> list[tuple]:
        params = {"seed": seed, "epochs": CAP * speed * a.budget / d.rows,
                  "train_samples_per_iteration": interval, "score_each_iteration": True,
                  "max_runtime_secs": runtime_cap(a.budget), **SCORING}
        rows = h2o_history(h2o, frames, d, params)
        out = [(float(r["epochs"]), float(r["samples"]) / h2o_speed(r),
                float(r["validation_classification_error"])) for r in rows]
        for ep, s, e in out:
            log(f"  h2o seed {seed}: epochs {ep:6.3f}  train {s:6.1f}s  test err {100 * e:.2f} %")
        return out
    return run


# ---------------------------------------------------------------------------- mpidl
def mpidl_runner(d: Data, a, extra: dict, system: str):
    """seed -> curve of mpidl (``extra`` on top of the defaults), via vs_torch.mpidl_curve."""
    base = {"training_frame": str(d.train_csv), "response_column": d.spec.response,
            "distribution": "bernoulli" if d.spec.task == "binomial" else "multinomial"}
    speeds = []
    for _ in range(2):   # the first also fills numba's cache; the lower speed counts
        info = common.run_mpidl({**base, **extra, **probe_params(system, d.rows)},
                                a.threads, tag="tta_probe")
        speeds.append(steady_speed([(r["samples"], vs_torch.train_seconds(r))
                                    for r in info["scoring_history"] if r["samples"] > 0]))
    speed = min(speeds)
    interval = max(256, round(speed * a.budget / a.points))
    log(f"{d.name} {system}: probe {speed:.0f} samples/s, {interval} samples per evaluation")
    ns = SimpleNamespace(max_epochs=CAP * speed * a.budget / d.rows, eval_every=interval / d.rows,
                         init="none", threads=a.threads, timeout=10 * a.budget + 300)
    extra = {**SCORING, **extra, "max_runtime_secs": runtime_cap(a.budget)}
    return lambda seed: vs_torch.mpidl_curve(ns, base, str(d.test_csv), d.rows, extra, seed)


# ---------------------------------------------------------------------------- PyTorch
def torch_arrays(d: Data) -> dict:
    """Standardized float32 inputs (training mean and sd, constant columns dropped) and class
    codes (the training set's sorted levels; a test level unseen in training: -1)."""
    train = pd.read_csv(d.train_csv, low_memory=False)
    test = pd.read_csv(d.test_csv, low_memory=False)
    r = d.spec.response
    x = train.drop(columns=[r]).to_numpy(np.float64)
    tx = test.drop(columns=[r]).to_numpy(np.float64)
    mean, sd = x.mean(axis=0), x.std(axis=0)
    keep = sd > 0
    y, ty = (f[r].astype(float) if pd.api.types.is_numeric_dtype(f[r]) else f[r].astype(str)
             for f in (train, test))   # HIGGS: 1.00E+00 in train, 1 in test
    levels = {v: i for i, v in enumerate(sorted(y.unique()))}
    return {"train_x": ((x[:, keep] - mean[keep]) / sd[keep]).astype(np.float32),
            "test_x": ((tx[:, keep] - mean[keep]) / sd[keep]).astype(np.float32),
            "train_y": y.map(levels).to_numpy(np.int64, copy=True),
            "test_y": ty.map(levels).fillna(-1).to_numpy(np.int64, copy=True)}


class TorchCurve(vs_torch.TorchBench):
    """vs_torch's TorchBench on given arrays, evaluated every budget / points seconds."""

    def __init__(self, torch, arrays: dict, hidden: list[int], batch: int, lr: float, seed: int):
        self.torch, self.hidden, self.batch, self.lr, self.seed = torch, hidden, batch, lr, seed
        self.init = ("none", 0.0)
        self.x, self.y = (torch.from_numpy(arrays[k]) for k in ("train_x", "train_y"))
        self.tx, self.ty = torch.from_numpy(arrays["test_x"]), arrays["test_y"]
        self.rows = self.x.shape[0]

    def test_error(self, net) -> float:
        """H2O's classification error (mpidl.metrics: binomial at the max-F1 threshold)."""
        from mpidl.metrics import classification_metrics
        torch = self.torch
        net.eval()
        with torch.no_grad():
            probs = torch.cat([torch.softmax(net(self.tx[i:i + 2500]), 1)
                               for i in range(0, self.tx.shape[0], 2500)]).numpy()
        net.train()
        return float(classification_metrics(self.ty, probs)["classification_error"])

    def timed_curve(self, budget: float, points: int) -> list[tuple]:
        """[(epochs, training seconds, test error)] at every budget / points seconds."""
        net, opt, gen, loss_fn = self._fresh()
        take = self._sampler(gen)
        done, train_s, out = 0, 0.0, []
        while len(out) < points:
            goal, t0 = budget * (len(out) + 1) / points, time.perf_counter()
            while train_s + time.perf_counter() - t0 < goal:
                idx = take(self.batch)
                self._step(net, opt, loss_fn, self.x[idx], self.y[idx])
                done += idx.shape[0]
            train_s += time.perf_counter() - t0
            out.append((done / self.rows, train_s, self.test_error(net)))
            log(f"  torch seed {self.seed}: epochs {out[-1][0]:6.3f}  train {train_s:6.1f}s  "
                f"test err {100 * out[-1][2]:.2f} %")
        return out


def torch_runner(torch, d: Data, a):
    arrays = torch_arrays(d)
    return lambda seed: TorchCurve(torch, arrays, [200, 200], 128, 1e-3, seed).timed_curve(
        a.budget, a.points)


# ---------------------------------------------------------------------------- runs
TICK = os.sysconf("SC_CLK_TCK")


def busy_seconds() -> float:
    """CPU seconds the whole machine has spent busy (/proc/stat: all but idle and iowait)."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return (sum(v[:8]) - v[3] - v[4]) / TICK


def own_seconds() -> float:
    """CPU seconds of this process, its finished children (mpidl) and its live ones (H2O's
    JVM)."""
    import resource
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    total = time.process_time() + kids.ru_utime + kids.ru_stime
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            f = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(f[1]) == os.getpid():          # ppid; utime, stime are fields 14, 15
            total += (int(f[11]) + int(f[12])) / TICK
    return total


def timed(run, seed: int) -> tuple:
    """(curve, wall seconds, share of the machine's CPU other processes took meanwhile)."""
    b0, o0, t0 = busy_seconds(), own_seconds(), time.perf_counter()
    curve = run(seed)
    wall = time.perf_counter() - t0
    others = (busy_seconds() - b0) - (own_seconds() - o0)
    return curve, wall, max(0.0, others) / (wall * os.cpu_count())


def run_dataset(a, d: Data, h2o, torch, extra: dict) -> list[tuple]:
    """[(system, [run per seed], wall seconds of its runs, [others' CPU share per run])] of
    one dataset, seeds interleaved."""
    makers = {"h2o": lambda: h2o_runner(h2o, d, a),
              "mpidl": lambda: mpidl_runner(d, a, {}, "mpidl"),
              "mpidl-mb": lambda: mpidl_runner(d, a, {**MINI_BATCH, **extra}, "mpidl-mb"),
              "torch": lambda: torch_runner(torch, d, a)}
    runners = {s: makers[s]() for s in a.systems}
    runs, shares = ({s: [] for s in a.systems} for _ in range(2))
    wall = dict.fromkeys(a.systems, 0.0)
    for seed in range(a.seed, a.seed + a.seeds):
        for s in a.systems:
            log(f"{d.name} {s} seed {seed} ...")
            curve, seconds, share = timed(runners[s], seed)
            runs[s].append(cut(curve, a.budget))
            wall[s] += seconds
            shares[s].append(share)
            log(f"  {seconds:.1f} s wall; other processes took {100 * share:.0f} % of the CPU")
    return [(s, runs[s], wall[s], shares[s]) for s in a.systems]


# ---------------------------------------------------------------------------- report
def names_of(versions: dict, extra: dict) -> dict:
    mb = "mpidl mini-batch 128, Adam 1e-3" + "".join(
        f" {k}={common.toml_value(v)}" for k, v in extra.items())
    return {"h2o": f"H2O-3 {versions.get('h2o', '')} (defaults)",
            "mpidl": "mpidl online (defaults)", "mpidl-mb": mb,
            "torch": f"PyTorch {versions.get('torch', '')} (Adam 1e-3, batch 128)"}


def hit_cell(runs: list[list], curve: list[tuple], target: float) -> str:
    """Seconds at which the smoothed mean curve first reaches ``target``, with the range of
    the seeds' own smoothed crossings; "not reached" with the best smoothed mean otherwise."""
    hit = tp.smoothed_hit(curve, target)
    if hit is None:
        errs = np.array([c[2] for c in curve])
        best = np.convolve(errs, np.ones(tp.SMOOTH) / tp.SMOOTH, "valid").min()
        return f"not reached (best {100 * best:.2f} %)"
    own = [h[1] for h in (tp.smoothed_hit(r, target) for r in runs) if h]
    first = hit[1] == curve[tp.SMOOTH - 1][1]   # as early as the evaluations can show
    cell = f"{'≤ ' if first else ''}{hit[1]:.1f}"
    if len(runs) > 1 and len(own) == len(runs):
        cell += f" (seeds {min(own):.1f}-{max(own):.1f})"
    elif len(runs) > 1:
        cell += f" ({len(own)} of {len(runs)} seeds alone" + (
            f": {min(own):.1f}-{max(own):.1f})" if own else ")")
    return cell


def end_cell(runs: list[list], curve: list[tuple]) -> str:
    """The error at the last common evaluation: mean ± sd (min-max), seconds, epochs."""
    ep, sec, mean, sd = curve[-1]
    errs = [r[len(curve) - 1][2] for r in runs]
    return (f"{100 * mean:.2f} ± {100 * sd:.2f} % ({100 * min(errs):.2f}-{100 * max(errs):.2f})"
            f" at {sec:.1f} s, {ep:.2f} ep")


def dataset_table(d: Data, results: list[tuple], names: dict) -> str:
    header = (["system", "seeds", "evaluations"]
              + [f"seconds to {100 * t:g} %" for t in d.targets]
              + ["error at the last common evaluation", "wall s, all seeds",
                 "CPU taken by other processes: mean (max) over runs"])
    rows = []
    for s, runs, wall, shares in results:
        load = (f"{100 * np.mean(shares):.0f} % ({100 * max(shares):.0f} %)" if shares
                else "not measured")
        if not runs or min(len(r) for r in runs) < tp.SMOOTH:
            rows.append([names[s], len(runs), "< 3 within the budget"]
                        + ["-"] * len(d.targets) + ["-", f"{wall:.0f}", load])
            continue
        curve = tp.mean_curve(runs)
        rows.append([names[s], len(runs), len(curve)]
                    + [hit_cell(runs, curve, t) for t in d.targets]
                    + [end_cell(runs, curve), f"{wall:.0f}", load])
    return common.table(header, rows)


def report(a, results: list[tuple], names: dict, figure: Path) -> str:
    body = ""
    for d, res in results:
        body += (f"**{d.name}** ({d.rows} training rows, test {d.test_csv.name} of "
                 f"`parity.py` {DATASETS[d.name]}, {d.spec.task}):\n\n"
                 + dataset_table(d, res, names) + "\n")
    link = Path(os.path.relpath(figure, common.HERE))
    body += (f"![test error against training seconds]({link.as_posix()})\n\n"
             f"Budget {a.budget:g} training seconds per run, {a.points} evaluations per budget, "
             f"{a.threads} threads each, seeds {a.seed}..{a.seed + a.seeds - 1} interleaved. "
             f"Seconds to a target: the first evaluation at which the mean curve over seeds, "
             f"smoothed by a running mean over {tp.SMOOTH} evaluations, is at or below it "
             f"(mean training seconds there); in brackets the range of each seed's own smoothed "
             f"crossing; ≤: at the first evaluation where a running mean exists (the "
             f"{tp.SMOOTH}rd), so the evaluations cannot show an earlier time. "
             f"Test error as H2O defines it (binomial: at the max-F1 threshold). "
             f"Training seconds exclude scoring: samples / training_speed of each scoring-"
             f"history row for H2O and mpidl, timed loops for PyTorch. Last column: the "
             f"machine's busy CPU time during a run less this script's, its children's and "
             f"H2O's JVM's (/proc), over wall x cores: the share other work on the shared "
             f"machine took (this script runs under nice 10, so such work slows it most).\n")
    return body


def plot(results: list[tuple], names: dict, path: Path) -> None:
    """One panel per dataset: mean test error (± sd shaded) against mean training seconds."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, len(results), figsize=(5.2 * len(results), 4.2), squeeze=False)
    for ax, (d, res) in zip(axes[0], results):
        for s, runs, *_ in res:
            if not runs or min(len(r) for r in runs) < 1:
                continue
            c = np.array([p[1:] for p in tp.mean_curve(runs)])
            line, = ax.plot(c[:, 0], 100 * c[:, 1], marker=".", label=names[s])
            ax.fill_between(c[:, 0], 100 * (c[:, 1] - c[:, 2]), 100 * (c[:, 1] + c[:, 2]),
                            color=line.get_color(), alpha=0.2, lw=0)
        for t in d.targets:
            ax.axhline(100 * t, color="grey", ls=":", lw=0.8)
        ax.set_xscale("log")
        ax.set_yscale("log")
        for axis in (ax.xaxis, ax.yaxis):
            axis.set_major_locator(plt.LogLocator(subs=(1.0, 2.0, 5.0)))
            axis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:g}"))
            axis.set_minor_formatter(plt.NullFormatter())
        ax.set_title(f"{d.name} ({len(res[0][1])} seed(s))")
        ax.set_xlabel("training seconds")
        ax.set_ylabel("test classification error, %")
        ax.grid(alpha=0.3, which="both")
    axes[0][0].legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


# ---------------------------------------------------------------------------- main
def parse_targets(spec: str | None) -> dict:
    """'higgs=0.35/0.32,mnist=0.1' over TARGETS."""
    out = dict(TARGETS)
    for item in filter(None, (spec or "").split(",")):
        name, _, values = item.partition("=")
        if name not in DATASETS or not values:
            sys.exit(f"--targets {item!r}: give dataset=error/error/... ({', '.join(DATASETS)})")
        out[name] = tuple(float(v) for v in values.split("/"))
    return out


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--datasets", default=",".join(DATASETS), help=",".join(DATASETS))
    ap.add_argument("--systems", default=",".join(SYSTEMS), help=",".join(SYSTEMS))
    ap.add_argument("--budget", type=float, default=8.0,
                    help="training seconds per run (each system, dataset and seed)")
    ap.add_argument("--points", type=int, default=30, help="evaluations per budget")
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--seed", type=int, default=1, help="first seed")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--targets", help="dataset=error/error/...,... (default TARGETS)")
    ap.add_argument("--set", dest="extra", action="append", default=[],
                    help="extra mpidl-mb job parameter key=value (TOML value)")
    ap.add_argument("--mem", default="2g", help="H2O's max memory")
    ap.add_argument("--plot", default=str(FIGURE), help="the PNG written")
    ap.add_argument("--curves", default=str(CURVES), help="every run's curve, written as JSON")
    ap.add_argument("--replot", metavar="JSON", help="no training: the table and figure of "
                    "the curves a run wrote (--curves), e.g. with other --targets")
    ap.add_argument("--record", action="store_true", help="write the tables to RESULTS.md")
    a = ap.parse_args()
    a.datasets = [n.strip() for n in a.datasets.split(",") if n.strip()]
    a.systems = [s.strip() for s in a.systems.split(",") if s.strip()]
    if not set(a.datasets) <= set(DATASETS) or not set(a.systems) <= set(SYSTEMS):
        sys.exit(f"choose --datasets from {', '.join(DATASETS)}, --systems from "
                 f"{', '.join(SYSTEMS)}")
    if a.seeds < 1 or a.points < tp.SMOOTH or a.budget <= 0:
        sys.exit(f"--seeds >= 1, --points >= {tp.SMOOTH}, --budget > 0")
    return a


def start_sides(a) -> tuple:
    """(h2o module or None, torch module or None, versions) for the systems asked for."""
    h2o = torch = None
    versions = {}
    if "h2o" in a.systems:
        why = h2o_unavailable(False)
        if why:
            sys.exit(f"time_to_accuracy: {why} (or leave h2o out of --systems)")
        h2o = common.start_h2o(a.threads, a.mem)
        versions["h2o"] = h2o.cluster().version
        log(f"H2O {versions['h2o']} ({java_version()}), nthreads {a.threads}")
    if "torch" in a.systems:
        torch = vs_torch.import_torch(a.threads)
        if torch is None:
            sys.exit(f"time_to_accuracy: PyTorch is not installed (pip install "
                     f"{vs_torch.TORCH_PIN}, or leave torch out of --systems)")
        versions["torch"] = torch.__version__
    return h2o, torch, versions


SAVED_ARGS = ("budget", "points", "threads", "seed", "seeds", "systems", "datasets")


def save_curves(a, results: list[tuple], names: dict) -> None:
    """Every run's curve, the names and the run's settings, as JSON at ``a.curves``."""
    out = {"args": {k: getattr(a, k) for k in SAVED_ARGS}, "names": names,
           "results": {d.name: res for d, res in results}}
    Path(a.curves).parent.mkdir(parents=True, exist_ok=True)
    Path(a.curves).write_text(json.dumps(out))
    log(f"curves: {a.curves}")


def replot(a, targets: dict) -> tuple:
    """(results, names) of a saved run; its settings replace ``a``'s."""
    saved = json.loads(Path(a.replot).read_text())
    for k, v in saved["args"].items():
        setattr(a, k, v)
    results = [(load(n, targets[n]), [(s, runs, wall, (rest or [[]])[0])
                                       for s, runs, wall, *rest in res])
               for n, res in saved["results"].items()]
    return results, saved["names"]


def main() -> int:
    a = parse_args()
    targets = parse_targets(a.targets)
    try:
        extra = dict(parse_override(item) for item in a.extra)
    except UserError as e:
        sys.exit(str(e))
    if a.replot:
        results, names = replot(a, targets)
    else:
        data = [load(n, targets[n]) for n in a.datasets]
        h2o, torch, versions = start_sides(a)
        t0 = time.perf_counter()
        results = [(d, run_dataset(a, d, h2o, torch, extra)) for d in data]
        log(f"all runs: {time.perf_counter() - t0:.0f} s wall")
        names = names_of(versions, extra)
        save_curves(a, results, names)
    figure = Path(a.plot).resolve()
    plot(results, names, figure)
    body = report(a, results, names, figure)
    print()
    print(body)
    print(f"figure: {figure}")
    if a.record:
        common.record("time_to_accuracy", f"Time to accuracy: test error against training "
                      f"seconds, H2O-3 / mpidl / PyTorch ({a.threads} threads, {a.seeds} "
                      f"seed(s), {a.budget:g} s per run)", body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
