"""A scaling study's SLURM side: the job checked for every point, the weak-scaling frames, one
``sbatch slurm/scaling.sbatch`` per point, and the wait until every point has ended.

Each point is its own job (node counts differ, so one job array cannot hold them), submitted
``--exclusive`` (no other job shares its nodes and skews its speed) and ``--no-requeue`` (a
point that fails or hits its time limit is reported, not rerun).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from study_file import Point, Study, job_overrides

from mpidl.data.frame import Frame
from mpidl.data.hdf5 import write_table
from mpidl.errors import UserError
from mpidl.params.jobfile import load_job

SCRIPT = Path(__file__).resolve().parents[1] / "slurm" / "scaling.sbatch"
FINAL_STATES = {"COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL", "OUT_OF_MEMORY",
                "PREEMPTED", "BOOT_FAIL", "DEADLINE"}


def training_frame(study: Study) -> str:
    """The job's training frame (its path as the job file resolves it); UserError when the
    job file or the study's ``set`` are bad (naming the study file too)."""
    try:
        return load_job(study.job, study.overrides).training_frame
    except UserError as e:
        raise UserError(f"{study.path}: {e}") from None


def frame_rows(study: Study, frame: str) -> int:
    """Rows of the training frame; for a weak study, checks that the largest point's rows
    (rows_per_rank x its ranks) are there."""
    rows = Frame(frame).nrows
    if "weak" in study.series:
        most = (max(study.series["weak"]) * max(study.ranks_per_node) * study.rows_per_rank)
        if most > rows:
            raise UserError(f"{study.path}: [weak] rows_per_rank: the largest point needs "
                            f"{most} rows, {frame} has {rows}")
    return rows


def check_points(study: Study, pts: list[Point], source: str, rows: int) -> None:
    """Every point's job file and overrides validated as ``mpidl train`` will (no data read;
    a weak point's frame, not made yet, stands in as ``source``)."""
    for p in pts:
        train = study.rows_per_rank * p.ranks if p.scaling == "weak" else rows
        load_job(study.job, job_overrides(study, p, train, source))


def weak_frame(source: str, nrows: int, folder: Path) -> str:
    """``folder``/weak-NROWS.h5: the first ``nrows`` rows of ``source`` (made once)."""
    out = folder / f"weak-{nrows}.h5"
    if not out.exists():
        frame = Frame(source)
        cols = frame.read(frame.info.names, 0, nrows)
        write_table(out, cols, {c.name: list(c.domain) for c in frame.info.columns
                                if c.domain is not None})
    return str(out)


def sbatch_argv(study: Study, point: Point, folder: Path, overrides: list[str]) -> list[str]:
    """The sbatch command line of one point; its files are ``folder``/TAG.{out,h5,json}."""
    argv = ["sbatch", "--parsable", "--exclusive", "--no-requeue",
            f"--job-name=mpidl-study-{Path(study.path).stem}", f"--nodes={point.nodes}",
            f"--ntasks-per-node={point.ranks_per_node}",
            f"--cpus-per-task={point.threads_per_rank}",
            f"--output={folder / point.tag}.out", f"--chdir={folder}"]
    if study.partition:
        argv.append(f"--partition={study.partition}")
    if study.time_limit:
        argv.append(f"--time={study.time_limit}")
    argv += list(study.sbatch_options) + [str(SCRIPT), study.job, str(folder / point.tag)]
    for item in overrides:
        argv += ["--set", item]
    return argv


def submit_env(study: Study) -> dict:
    """The environment sbatch exports to every point: this interpreter, the study's network."""
    env = dict(os.environ, MPIDL_PYTHON=sys.executable)
    if study.network:
        env["MPIDL_SIMULATE_NETWORK"] = study.network
    return env


def submit(argvs: list[list[str]], env: dict) -> list[str]:
    """Submit every point; returns the job ids.  A refused submission cancels the ones made."""
    ids = []
    for argv in argvs:
        r = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=120)
        jid = r.stdout.strip().split(";")[0]
        if r.returncode != 0 or not jid.isdigit():
            cancel(ids)
            raise UserError(f"sbatch refused a point ({' '.join(r.stderr.split())}): "
                            f"{' '.join(argv)}")
        ids.append(jid)
    return ids


def cancel(ids: list[str]) -> None:
    if ids:
        subprocess.run(["scancel", *ids], capture_output=True, timeout=60)


def job_state(jid: str) -> tuple[str, str]:
    """(JobState, ExitCode) from ``scontrol show job``; ("UNKNOWN", "") once SLURM forgot it."""
    r = subprocess.run(["scontrol", "show", "job", "-o", jid], capture_output=True, text=True,
                       timeout=60)
    fields = dict(kv.split("=", 1) for kv in r.stdout.split() if "=" in kv)
    return fields.get("JobState", "UNKNOWN"), fields.get("ExitCode", "")


def wait_all(ids: list[str], every: float = 2.0, say=print) -> dict[str, str]:
    """Block until no job of ``ids`` is pending or running; {job id: final state}."""
    states: dict[str, str] = {}
    while len(states) < len(ids):
        for jid in ids:
            if jid not in states:
                state, code = job_state(jid)
                if state in FINAL_STATES or state == "UNKNOWN":
                    states[jid] = state
                    say(f"job {jid}: {state} {code}".rstrip(), flush=True)
        if len(states) < len(ids):
            time.sleep(every)
    return states
