"""A scaling study's results: each point's model (its ``inspect --json``, written by
``slurm/scaling.sbatch`` as TAG.json) gathered into one row, the rows as ``study.csv``, a
Markdown table and a PNG of speed-up and efficiency against nodes.

Speed-up and efficiency.  Within each scaling kind (strong, weak) the baseline is the point
with the fewest cores (nodes x ranks per node x threads per rank; the first such point when
several tie).  A point's speed-up is its samples/s over the baseline's, its ideal speed-up its
cores over the baseline's, its efficiency the one over the other.  In weak scaling, where every
rank's work stays the same, the same ratio is the usual time-based weak efficiency.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

from study_file import Point

PHASES = ("compute", "wait", "allreduce", "scoring", "checkpoint")
COLUMNS = ("scaling", "nodes", "ranks_per_node", "threads_per_rank", "ranks", "cores",
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
               threads_per_rank=point.threads_per_rank, ranks=point.ranks, cores=point.cores,
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
    for kind in ("strong", "weak"):
        done = [r for r in rows if r["scaling"] == kind and r["samples_per_s"] != ""]
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


def _per_iteration_ms(r: dict) -> str:
    if r["samples_per_s"] == "" or not r["iterations"]:
        return "-"
    return " / ".join(f"{1e3 * r[f'{p}_s'] / r['iterations']:.1f}" for p in PHASES)


def table(rows: list[dict]) -> str:
    """The Markdown table printed at the end (and recorded with --record)."""
    head = ["scaling", "nodes", "ranks/node x threads", "state", "samples/s", "speed-up (ideal)",
            "efficiency", "iterations", "ms per iteration: compute / wait / allreduce / "
            "scoring / checkpoint"]
    lines = ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    for r in rows:
        ok = r["samples_per_s"] != ""
        lines.append("| " + " | ".join(str(c) for c in (
            r["scaling"], r["nodes"], f"{r['ranks_per_node']} x {r['threads_per_rank']}",
            r["state"], f"{r['samples_per_s']:,.0f}" if ok else "-",
            f"{r['speedup']:.2f} ({r['ideal_speedup']:g})" if ok else "-",
            f"{100 * r['efficiency']:.0f} %" if ok else "-",
            r["iterations"] if ok else "-", _per_iteration_ms(r))) + " |")
    return "\n".join(lines) + "\n"


def plot(rows: list[dict], path: Path) -> None:
    """PNG at ``path``: speed-up (ideal dashed) and efficiency against nodes, one line per
    scaling kind x ranks per node x threads per rank (needs matplotlib, the [plot] extra)."""
    from matplotlib.figure import Figure
    fig = Figure(figsize=(7, 7), dpi=100, layout="constrained")
    up, eff = fig.subplots(2, 1, sharex=True)
    series: dict = {}
    for r in rows:
        if r["samples_per_s"] != "":
            key = (r["scaling"], r["ranks_per_node"], r["threads_per_rank"])
            series.setdefault(key, []).append(r)
    for (kind, rpn, tpr), rs in series.items():
        rs.sort(key=lambda r: r["nodes"])
        nodes = [r["nodes"] for r in rs]
        label = f"{kind}, {rpn} rank(s)/node x {tpr} thread(s)"
        line, = up.plot(nodes, [r["speedup"] for r in rs], "o-", label=label)
        up.plot(nodes, [r["ideal_speedup"] for r in rs], "x--", color=line.get_color(),
                alpha=0.6, label=f"ideal ({label})")
        eff.plot(nodes, [100 * r["efficiency"] for r in rs], "o-", color=line.get_color())
    eff.axhline(100, color="grey", linestyle=":")
    up.set_xscale("log", base=2)
    up.set_ylabel("speed-up (samples/s over the baseline)")
    eff.set_ylabel("efficiency (%)")
    eff.set_xlabel("nodes")
    up.legend(fontsize="small")
    fig.suptitle("Scaling study: speed-up and efficiency against nodes")
    fig.savefig(path, format="png")
