"""``benchmarks/scaling.py --slurm STUDY.toml [--out DIR] [--record]``: one command runs a
scaling study on a SLURM cluster (issue 16 point 2; docs/scaling.md, "Running a study on a
cluster").

Order: the study file, the environment, the partition (``sinfo``) and every point's job are
checked first, and a bad one is one line on stderr and exit 2 with nothing submitted; then the
results folder is made (weak-scaling frames in it), every point submitted
(``slurm/scaling.sbatch``), waited for, gathered into DIR/study.csv, printed as a table and
drawn as DIR/study.png.  Exit 0 when every point trained, 1 when one did not (its state and
log file are in the table and the CSV).
"""

from __future__ import annotations

import os
import sys

import study_jobs
import study_results
from study_file import check_cluster, job_overrides, points, read_study, study_folder

from mpidl.errors import EXIT_USER, UserError


def _prepared(path: str, out: str | None):
    """(study, points, folder, sbatch command lines) after every check; UserError if bad."""
    study = read_study(path)
    check_cluster(study)
    pts = points(study)
    source = study_jobs.training_frame(study)
    rows = study_jobs.frame_rows(study, source)
    study_jobs.check_points(study, pts, source, rows)
    folder = study_folder(path, out)
    argvs = []
    for p in pts:
        frame, train = None, rows
        if p.scaling == "weak":
            train = study.rows_per_rank * p.ranks
            frame = study_jobs.weak_frame(source, train, folder)
        argvs.append(study_jobs.sbatch_argv(study, p, folder,
                                            job_overrides(study, p, train, frame)))
    return study, pts, folder, argvs


def run_study(path: str, out: str | None = None, record: bool = False) -> int:
    """Run the study at ``path``; returns the exit code (0, 1, or 2 for a bad study)."""
    try:
        study, pts, folder, argvs = _prepared(path, out)
        ids = study_jobs.submit(argvs, study_jobs.submit_env(study))
    except UserError as e:
        sys.stderr.write(f"scaling.py: error: {e}\n")
        return EXIT_USER
    print(f"submitted {len(ids)} job(s) of {path}: {', '.join(ids)}; results in {folder}",
          flush=True)
    try:
        states = study_jobs.wait_all(ids)
    except KeyboardInterrupt:
        study_jobs.cancel(ids)
        raise
    rows = [study_results.point_row(p, jid, states[jid], folder) for p, jid in zip(pts, ids)]
    study_results.add_speedups(rows)
    study_results.write_csv(rows, folder / "study.csv")
    summary = study_results.summary(rows)
    text = study_results.table(summary)
    print(text)
    if any(r["samples_per_s"] != "" for r in rows):
        study_results.plot(summary, folder / "study.png")
    failed = [(p, r) for p, r in zip(pts, rows) if r["samples_per_s"] == ""]
    for p, r in failed:
        print(f"point {p.tag} (job {r['job_id']}) did not train: {r['state']}; see "
              f"{folder / p.tag}.out", file=sys.stderr)
    print(f"wrote {folder / 'study.csv'}" + (f" and {folder / 'study.png'}"
                                             if len(failed) < len(rows) else ""))
    if record:
        _record(study, text)
    return 1 if failed else 0


def _record(study, text: str) -> None:
    """The table into RESULTS.md (section ``slurm_study``), under the study file itself and
    the submitting machine's load (on a one-node cluster, the machine the points ran on)."""
    import common
    with open(study.path) as f:
        spec = f.read().strip()
    most = max(max(n) for n in study.series.values())
    smoke = ("A one-node smoke study: it shows that the sweep runs end to end (submit, wait, "
             "gather, table, plot), not how mpidl scales across nodes.  " if most == 1 else "")
    common.record("slurm_study", "A scaling study on SLURM",
                  f"{smoke}The study file:\n\n```toml\n{spec}\n```\n\n{text}\n"
                  "Load average of the submitting machine (1 / 5 / 15 min) when the study "
                  f"ended: {' / '.join(f'{x:.1f}' for x in os.getloadavg())} on "
                  f"{os.cpu_count()} cores.\n")
