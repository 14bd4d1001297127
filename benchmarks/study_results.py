"""A scaling study's results: each job's model (its ``inspect --json``, written by
``slurm/scaling.sbatch`` as TAG.json) gathered into one row, the rows as ``study.csv``; the
repeats of each point summed up (mean and spread) in a Markdown table and a PNG of speed-up
and efficiency against nodes.

Speed-up and efficiency.  Within each scaling kind (strong, weak) and round (repeat) the
baseline is the point with the fewest cores (nodes x ranks per node x threads per rank; the
first such point when several tie).  A point's speed-up is its samples/s over that round's
baseline's, its ideal speed-up its cores over the baseline's, its efficiency the one over the
other.  In weak scaling, where every rank's work stays the same, the same ratio is the usual
time-based weak efficiency.
"""

from __future__ import annotations

import csv
import json
import statistics
from pathlib import Path

from study_file import Point

PHASES = ("compute", "wait", "allreduce", "scoring", "checkpoint")
COLUMNS = ("scaling", "nodes", "ranks_per_node", "threads_per_rank", "repeat", "ranks", "cores",
           "job_id", "state", "samples", "iterations", "duration_s", "samples_per_s",
           "speedup", "ideal_speedup", "efficiency",
           *(f"{p}_s" for p in PHASES), "other_s", "model")


def point_row(point: Point, jid: str, state: str, folder: Path) -> dict:
    """One CSV row: the point, its job, and (when its TAG.json is there) what its model says.

    ``samples_per_s``: the last scoring-history row's ``training_speed`` (samples per second of
    training, scoring excluded: H2O's definition); ``{phase}_s``: the phase's seconds summed
    over the history rows; ``other_s``: ``duration_s`` less those (Python, small collectives).
    """
    row = dict.fromkeys(COLUMNS, "")
    row.update(scaling=point.scaling, nodes=point.nodes, ranks_per_node=point.ranks_per_node,
               threads_per_rank=point.threads_per_rank, repeat=point.repeat, ranks=point.ranks,
               cores=point.cores,
               job_id=jid, state=state)
    result = folder / f"{point.tag}.json"
    if not result.exists():
        return row
    info = json.loads(result.read_text())
    history = info["scoring_history"]
    last = history[-1]
    phases = {f"{p}_s": round(sum(h.get(f"{p}_seconds", 0.0) for h in history), 6)
              for p in PHASES}
    row.update(samples=last["samples"], iterations=last["iterations"],
               duration_s=last["duration"], samples_per_s=last["training_speed"], **phases,
               other_s=round(last["duration"] - sum(phases.values()), 6),
               model=str(folder / f"{point.tag}.h5"))
    if info["nranks"] != point.ranks:
        row["state"] = f"{state}, {info['nranks']} ranks ran"
    return row


def add_speedups(rows: list[dict]) -> None:
    """Fill speedup, ideal_speedup and efficiency of every row with a speed (module doc)."""
    for key in {(r["scaling"], r["repeat"]) for r in rows}:
        done = [r for r in rows if (r["scaling"], r["repeat"]) == key and r["samples_per_s"] != ""]
        if not done:
            continue
        base = min(done, key=lambda r: r["cores"])
        for r in done:
            speedup = r["samples_per_s"] / base["samples_per_s"]
            ideal = r["cores"] / base["cores"]
            r.update(speedup=round(speedup, 4), ideal_speedup=round(ideal, 4),
                     efficiency=round(speedup / ideal, 4))


def write_csv(rows: list[dict], path: Path) -> None:
    """``path`` with one line per point, columns ``COLUMNS`` (via a temporary name)."""
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=COLUMNS)
        w.writeheader()
        w.writerows(rows)
    tmp.replace(path)


def summary(rows: list[dict]) -> list[dict]:
    """One dict per point (its repeats together), in the rows' order: ``runs`` (trained / all),
    ``states``, and over the trained repeats the mean and sample sd of samples/s, the mean
    speed-up and ideal, the mean, min and max efficiency, and each phase's mean milliseconds
    per iteration (``{phase}_ms``)."""
    groups: dict = {}
    for r in rows:
        groups.setdefault((r["scaling"], r["nodes"], r["ranks_per_node"],
                           r["threads_per_rank"]), []).append(r)
    out = []
    for (kind, nodes, rpn, tpr), rs in groups.items():
        done = [r for r in rs if r["speedup"] != ""]
        s = dict(scaling=kind, nodes=nodes, ranks_per_node=rpn, threads_per_rank=tpr,
                 runs=f"{len(done)}/{len(rs)}",
                 states=", ".join(sorted({r["state"] for r in rs})))
        if done:
            speeds, effs = [r["samples_per_s"] for r in done], [r["efficiency"] for r in done]
            s.update(sps=statistics.mean(speeds),
                     sps_sd=statistics.stdev(speeds) if len(speeds) > 1 else None,
                     speedup=statistics.mean(r["speedup"] for r in done),
                     ideal=done[0]["ideal_speedup"], eff=statistics.mean(effs),
                     eff_min=min(effs), eff_max=max(effs), iterations=statistics.mean(
                         r["iterations"] for r in done),
                     **{f"{p}_ms": statistics.mean(1e3 * r[f"{p}_s"] / r["iterations"]
                                                   for r in done) for p in PHASES})
        out.append(s)
    return out


def table(points: list[dict]) -> str:
    """The Markdown table of ``summary``'s points (printed, and recorded with --record)."""
    head = ["scaling", "nodes", "ranks/node x threads", "runs trained (states)",
            "samples/s (mean ± sd)", "speed-up (ideal)", "efficiency (min-max)", "iterations",
            "ms per iteration: compute / wait / allreduce / scoring / checkpoint"]
    lines = ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    for s in points:
        cells = [s["scaling"], s["nodes"], f"{s['ranks_per_node']} x {s['threads_per_rank']}",
                 f"{s['runs']} ({s['states']})"]
        if "sps" in s:
            sd = f" ± {s['sps_sd']:,.0f}" if s["sps_sd"] is not None else ""
            spread = (f" ({100 * s['eff_min']:.0f}-{100 * s['eff_max']:.0f})"
                      if s["eff_min"] != s["eff_max"] else "")
            cells += [f"{s['sps']:,.0f}{sd}", f"{s['speedup']:.2f} ({s['ideal']:g})",
                      f"{100 * s['eff']:.0f} %{spread}", f"{s['iterations']:.0f}",
                      " / ".join(f"{s[f'{p}_ms']:.1f}" for p in PHASES)]
        else:
            cells += ["-"] * 5
        lines.append("| " + " | ".join(str(c) for c in cells) + " |")
    return "\n".join(lines) + "\n"


def plot(points: list[dict], path: Path) -> None:
    """PNG at ``path``: ``summary``'s mean speed-up (ideal dashed) and efficiency (min-max as
    error bars) against nodes, one line per scaling kind x ranks per node x threads per rank
    (needs matplotlib, the [plot] extra)."""
    from matplotlib.figure import Figure
    fig = Figure(figsize=(7, 7), dpi=100, layout="constrained")
    up, eff = fig.subplots(2, 1, sharex=True)
    series: dict = {}
    for s in points:
        if "sps" in s:
            series.setdefault((s["scaling"], s["ranks_per_node"], s["threads_per_rank"]),
                              []).append(s)
    for (kind, rpn, tpr), ss in series.items():
        ss.sort(key=lambda s: s["nodes"])
        nodes = [s["nodes"] for s in ss]
        label = f"{kind}, {rpn} rank(s)/node x {tpr} thread(s)"
        line, = up.plot(nodes, [s["speedup"] for s in ss], "o-", label=label)
        up.plot(nodes, [s["ideal"] for s in ss], "x--", color=line.get_color(), alpha=0.6,
                label=f"ideal ({label})")
        effs = [100 * s["eff"] for s in ss]
        eff.errorbar(nodes, effs, yerr=[[e - 100 * s["eff_min"] for e, s in zip(effs, ss)],
                                        [100 * s["eff_max"] - e for e, s in zip(effs, ss)]],
                     fmt="o-", capsize=3, color=line.get_color())
    eff.axhline(100, color="grey", linestyle=":")
    up.set_xscale("log", base=2)
    up.set_ylabel("speed-up (samples/s over the baseline)")
    eff.set_ylabel("efficiency (%, min-max over repeats)")
    eff.set_xlabel("nodes")
    up.legend(fontsize="small")
    fig.suptitle("Scaling study: speed-up and efficiency against nodes (means over repeats)")
    fig.savefig(path, format="png")
