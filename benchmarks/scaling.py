"""Parallel scaling on one machine: MNIST samples/s for ranks x threads, and the allreduce cost.

    python benchmarks/scaling.py --hidden 1024,1024 --epochs 0.25 --repeats 3 --record
    python benchmarks/scaling.py ... --plot scaling.png     # and a scaling plot (mpidl[plot])
    python benchmarks/scaling.py --slurm study.toml [--out DIR] [--record]   # on a cluster

``--slurm STUDY.toml`` runs a study of nodes x ranks per node x threads per rank on a SLURM
cluster instead, one job per point (``benchmarks/slurm_study.py``, docs/scaling.md); the rest
of this text is about the one-machine table.

Runs ``mpirun -n R python -m mpidl train`` for R x T in {1x1, 2x1, 1x2, 4x1 (oversubscribed on
2 cores)} (``--configs`` to choose), each rank on its own shard (replicate_training_data =
false) with train_samples_per_iteration = -2 (auto-tuned from the measured compute and
allreduce times, H2O's target_ratio_comm_to_comp = 0.05; config ``2x1@0.01``: 0.01) and
train_while_waiting on (``2x1w``: off), scoring limited as in H2O's tuning guide (100 training
samples, duty cycle 0).  Reports samples/s of training (scoring excluded), parallel efficiency
against 1 rank x 1 thread (speed / (R x T x speed_1x1)), the measured time of one allreduce of
the model buffer (weights, biases and optimizer state), samples per iteration and iterations,
and each rank's peak resident memory against the bound data read + 4 x model + 10 % +
interpreter (the interpreter's share is the peak of the same command on the bundled 380-row
prostate data), and each rank's PSS and shared memory at the end of training (the ranks' PSS
adds up to the node's memory).

The ceiling.  Config ``2x1i`` runs two independent 1-thread trainings at once, without MPI
(each on all rows, its own seed): no communication, no waiting for a peer.  Its efficiency is
what this machine's shared memory system and clock leave to two processes at all, the upper
bound for ``2x1``.

A straggler.  Configs ``2x1s`` and ``2x1ws`` bind the ranks to cores (``mpirun -bind-to``, or Open MPI's ``--map-by slot:pe=T``) and
run a busy loop on the last of their cores, so the rank there trains at about half speed: with
train_while_waiting on, the other rank keeps training meanwhile; off (``w``), it idles.

Noise.  A single core's speed moves by about 10 % from one minute to the next on the shared VMs,
so a single 1x1 baseline makes a single efficiency a coin toss.  ``--repeats N`` runs all configs
N times in interleaved rounds; each round's efficiencies use that round's own 1x1 speed, and the
table gives the median speed and the median efficiency with its range over the rounds.  The other
columns are those of the last round.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass

import common
from launcher import bind_to_cores  # tests/, put on sys.path by common


def independent_pair(params: dict, tag: str) -> dict:
    """Two 1-rank x 1-thread trainings at once (seeds 1 and 2), no MPI: the summed speed and a
    result shaped like ``run_mpidl``'s (the first run's fields, both runs' memory)."""
    runs = [common.prepare_run({**params, "seed": s}, 1, 1, f"{tag}_{s}") for s in (1, 2)]
    t0 = time.perf_counter()
    procs = [subprocess.Popen(cmd, env=env, cwd=common.ROOT, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True) for cmd, _, env in runs]
    for p, (cmd, _, _) in zip(procs, runs):
        err = p.communicate()[1]
        if p.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed ({p.returncode}): {err.strip()[-800:]}")
    wall = time.perf_counter() - t0
    infos = [common.inspect(str(model)) for _, model, _ in runs]
    out = dict(infos[0])
    out["speed"] = sum(i["scoring_history"][-1]["training_speed"] for i in infos)
    out["wall"] = wall
    out["memory"] = {**infos[0]["memory"],
                     "peak_rss_mb": [i["memory"]["peak_rss_mb"][0] for i in infos],
                     **{key: [i["memory"][key][0] for i in infos]
                        for key in ("data_read_mb", "pss_at_end_mb", "shared_at_end_mb")}}
    return out


@dataclass(frozen=True)
class Config:
    """One row of the table, parsed from ``RxT[i][w][s][@ratio]`` (e.g. ``2x1``, ``2x1ws``)."""

    ranks: int
    threads: int
    independent: bool = False      # i: two independent 1-thread runs without MPI (2x1 only)
    waiting: bool = False          # w: train_while_waiting off (idle until the slowest is done)
    straggler: bool = False        # s: ranks bound to cores, one rank's shared with a busy loop
    ratio: float | None = None     # @R: target_ratio_comm_to_comp (None: H2O's 0.05)

    def label(self) -> str:
        return (f"{self.ranks} x {self.threads}"
                + (" independent, no MPI" if self.independent else "")
                + (" waiting (train_while_waiting off)" if self.waiting else "")
                + (", one rank's core shared with a busy process" if self.straggler else "")
                + (f", target_ratio_comm_to_comp {self.ratio:g}" if self.ratio else ""))


def parse_config(cfg: str) -> Config:
    m = re.fullmatch(r"(\d+)x(\d+)([iws]*)(?:@([0-9.]+))?", cfg)
    if not m:
        raise SystemExit(f"--configs: {cfg}: expected RANKSxTHREADS[i][w][s][@RATIO]")
    flags = m.group(3)
    c = Config(int(m.group(1)), int(m.group(2)), "i" in flags, "w" in flags, "s" in flags,
               float(m.group(4)) if m.group(4) else None)
    if c.independent and (c.ranks, c.threads, flags, c.ratio) != (2, 1, "i", None):
        raise SystemExit(f"--configs: {cfg}: only 2x1i (two independent 1-thread runs) exists")
    if (c.waiting or c.straggler or c.ratio) and c.ranks < 2:
        raise SystemExit(f"--configs: {cfg}: w, s and @RATIO need at least 2 ranks")
    if c.straggler and c.ranks * c.threads > (os.cpu_count() or 1):
        raise SystemExit(f"--configs: {cfg}: s binds each rank to its own cores: too many")
    return c


def run_config(c: Config, params: dict, tag: str) -> dict:
    """Train one config; for a straggler config a busy loop shares the last core used."""
    if c.independent:
        return independent_pair(params, tag)
    job = {**params, "train_while_waiting": not c.waiting}
    if c.ratio:
        job["target_ratio_comm_to_comp"] = c.ratio
    if not c.straggler:
        return common.run_mpidl(job, c.threads, c.ranks, tag=tag)
    core = c.ranks * c.threads - 1
    hog = subprocess.Popen(["taskset", "-c", str(core), sys.executable, "-c", "while True: pass"])
    try:
        return common.run_mpidl(job, c.threads, c.ranks, tag=tag,
                                launcher_args=bind_to_cores(c.threads))
    finally:
        hog.kill()
        hog.wait()


def scaling_plot(path: str, configs: dict, speeds: dict, effs: dict) -> None:
    """PNG at ``path``: median samples/s (bars, the range over rounds as error bars) and
    median parallel efficiency (%) of each config (needs matplotlib, the [plot] extra)."""
    from matplotlib.figure import Figure
    names = list(configs)
    med = [statistics.median(speeds[c]) for c in names]
    err = [[m - min(speeds[c]) for m, c in zip(med, names)],
           [max(speeds[c]) - m for m, c in zip(med, names)]]
    fig = Figure(figsize=(max(6, 1.1 * len(names)), 6), dpi=100, layout="constrained")
    top, bottom = fig.subplots(2, 1, sharex=True)
    top.bar(names, med, yerr=err, capsize=3, color="#1f77b4")
    top.set_ylabel("samples/s")
    bottom.bar(names, [100 * statistics.median(effs[c]) for c in names], color="#ff7f0e")
    bottom.axhline(100, color="grey", linestyle=":")
    bottom.set_ylabel("efficiency vs 1x1 (%)")
    bottom.set_xlabel("ranks x threads (config)")
    fig.suptitle("Scaling over ranks and threads (medians over rounds)")
    fig.savefig(path, format="png")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--hidden", default="1024,1024")
    ap.add_argument("--epochs", type=float, default=0.1)
    ap.add_argument("--configs", default="1x1,2x1,2x1w,2x1@0.01,2x1i,2x1s,2x1ws,1x2,4x1",
                    help="RANKSxTHREADS[i][w][s][@R],... (i: two independent 1-thread runs, no "
                         "MPI; w: train_while_waiting off; s: one rank's core shared with a "
                         "busy process; @R: target_ratio_comm_to_comp R)")
    ap.add_argument("--repeats", type=int, default=1, help="interleaved rounds of all configs")
    ap.add_argument("--record", action="store_true", help="write the table to RESULTS.md")
    ap.add_argument("--plot", metavar="PNG", help="also draw samples/s and efficiency as a PNG")
    ap.add_argument("--slurm", metavar="STUDY", help="run the study file STUDY.toml on SLURM")
    ap.add_argument("--out", metavar="DIR", help="--slurm: the results folder (default: STUDY)")
    a = ap.parse_args()
    if a.slurm:
        from slurm_study import run_study
        raise SystemExit(run_study(a.slurm, a.out, a.record))
    configs = {cfg: parse_config(cfg) for cfg in a.configs.split(",")}   # all checked up front
    if next(iter(configs)) != "1x1":
        raise SystemExit("--configs: the first config must be 1x1 (the baseline)")
    train, test = common.mnist_h5()
    hidden = [int(h) for h in a.hidden.split(",")]
    params = dict(training_frame=train, validation_frame=test, response_column="C785",
                  hidden=hidden, epochs=a.epochs, seed=1, replicate_training_data=False,
                  train_samples_per_iteration=-2, score_training_samples=100,
                  score_validation_samples=0, score_duty_cycle=0.0)
    tiny = common.run_mpidl(dict(training_frame=str(common.ROOT / "data" / "prostate.csv"),
                                 response_column="CAPSULE", hidden=[8], epochs=1),
                            1, tag="scaling_interpreter")
    interp = tiny["memory"]["peak_rss_mb"][0]
    speeds = {c: [] for c in configs}
    effs = {c: [] for c in configs}
    last = {}
    for rnd in range(a.repeats):
        base = None
        for cfg, c in configs.items():
            r = run_config(c, params, f"scaling_{cfg}")
            base = base or r["speed"]
            speeds[cfg].append(r["speed"])
            effs[cfg].append(r["speed"] / (c.ranks * c.threads * base))
            last[cfg] = r
            print(f"round {rnd + 1} {cfg}: {r['speed']:.0f} samples/s, "
                  f"efficiency {100 * effs[cfg][-1]:.0f} %", flush=True)
    rows = []
    for cfg, c in configs.items():
        independent = c.independent
        r, mem = last[cfg], last[cfg]["memory"]
        bound = max(1.1 * (d + 4 * mem["model_mb"]) + interp for d in mem["data_read_mb"])
        e = effs[cfg]
        eff = f"{100 * statistics.median(e):.0f} %" + (
            f" ({100 * min(e):.0f}-{100 * max(e):.0f})" if len(e) > 1 else "")
        comm = c.ranks > 1 and not independent
        rows.append([c.label(),
                     f"{statistics.median(speeds[cfg]):.0f}", eff,
                     f"{1e3 * r['allreduce_seconds']:.1f}" if comm else "-",
                     r["train_samples_per_iteration"] if not independent else "-",
                     r["iterations"] if not independent else "-",
                     f"{r['epochs']:.3f}" + (" each" if independent else ""),
                     f"{100 * r['validation_metrics']['classification_error']:.2f} %",
                     f"{r['wall']:.0f} s",
                     "/".join(f"{x:.0f}" for x in mem["peak_rss_mb"]) + f" (bound {bound:.0f})",
                     " / ".join("/".join(f"{x:.0f}" for x in mem[key])
                                for key in ("pss_at_end_mb", "shared_at_end_mb"))])
    rounds = (f"Medians over {a.repeats} interleaved rounds; efficiency range in brackets; "
              "the other columns are the last round's.  " if a.repeats > 1 else "")
    body = (f"MNIST, hidden [{a.hidden}], Rectifier, ADADELTA, {a.epochs} epoch(s) in all; "
            "each rank trains its own shard.  " + rounds + "\n\n"
            + common.table(["ranks x threads", "samples/s", "efficiency vs 1x1",
                            "allreduce of model (ms)", "samples/iteration (last)",
                            "iterations", "epochs", "test error", "wall",
                            "peak RSS per rank, MB", "PSS / shared per rank at end, MB"],
                           rows)
            + f"\nModel {mem['model_mb']} MB (weights, biases, ADADELTA state); interpreter, "
            f"numba and kernels: {interp:.0f} MB (peak RSS on the 380-row prostate data).  "
            "'2 x 1 independent': two 1-thread trainings at once without MPI, the ceiling that "
            "this machine leaves to 2 x 1.  'waiting': train_while_waiting = false, so a rank "
            "that finishes its share early idles until the slowest is done (H2O's way); every "
            "other row has it on (the default).  'target_ratio_comm_to_comp 0.01': -2 sizes "
            "iterations so that the time outside compute is 1 % of them, not H2O's default "
            "5 %.  'core shared with a busy process': ranks bound to cores and a busy loop on "
            "one rank's core, which then trains at about half speed, a straggler; the most "
            "two ranks can then do is 1.5x one, 75 % efficiency.\n")
    print(body)
    if a.plot:
        scaling_plot(a.plot, configs, speeds, effs)
    if a.record:
        common.record("scaling", "Scaling over ranks and threads (one machine)", body)


if __name__ == "__main__":
    main()
