"""``benchmarks/scaling.py --slurm STUDY.toml`` (issue 16 point 2): a scaling study on SLURM.

The live test runs a one-node study (the quickstart job on 1 and 2 ranks) end to end on the
session's SLURM (the ``slurm`` fixture of tests/slurm_cluster.py, shared with
tests/test_slurm.py: one start per session; skipped with ``MPIDL_TEST_SLURM=0``).  The others
check, without SLURM, the points a study expands to, what each point's job is told, and the
table's arithmetic against hand values.  Bad studies: tests/adversarial/test_sweep16.py.
"""

from __future__ import annotations

import csv
import json
import os
import sys
from pathlib import Path

import pytest
from slurm_cluster import slurm_run

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
import study_file  # noqa: E402
import study_jobs  # noqa: E402
import study_results  # noqa: E402

pytestmark = [pytest.mark.mpi_skip]

STUDY = """\
job = "{job}"
ranks_per_node = [2, 1]
threads_per_rank = [1]
samples = {samples}
time_limit = "10"
{extra}
[strong]
nodes = [{nodes}]
"""


def _study(tmp_path, samples=20000, nodes="1", extra="") -> Path:
    path = tmp_path / "study.toml"
    path.write_text(STUDY.format(job=ROOT / "jobs" / "quickstart.toml", samples=samples,
                                 nodes=nodes, extra=extra))
    return path


# ------------------------------------------------------------------------- without SLURM
def test_points_and_what_each_job_is_told(tmp_path):
    path = _study(tmp_path, samples=7600, nodes="4, 1, 2", extra=(
        'set = ["hidden=[4]"]\n[weak]\nnodes = [2]\nrows_per_rank = 50\n'))
    s = study_file.read_study(str(path))
    pts = study_file.points(s)
    assert [(p.scaling, p.nodes, p.ranks_per_node) for p in pts] == [
        ("strong", 1, 1), ("strong", 2, 1), ("strong", 4, 1),
        ("strong", 1, 2), ("strong", 2, 2), ("strong", 4, 2),
        ("weak", 2, 1), ("weak", 2, 2)]
    assert [p.ranks for p in pts] == [1, 2, 4, 2, 4, 8, 2, 4]
    # strong: 7,600 samples of 380 rows = 20 epochs at every count
    strong = study_file.job_overrides(s, pts[5], 380, None)
    assert strong[0] == "hidden=[4]" and "epochs=20.0" in strong
    assert "stopping_rounds=0" in strong and not any("training_frame" in x for x in strong)
    # weak, 2 nodes x 2 ranks of 50 rows: each rank trains 7,600 samples = 152 epochs of 200 rows
    weak = study_file.job_overrides(s, pts[7], 200, "w.h5")
    assert "epochs=152.0" in weak
    assert "training_frame=w.h5" in weak and "replicate_training_data=false" in weak
    argv = study_jobs.sbatch_argv(s, pts[5], tmp_path, strong)
    assert argv[:4] == ["sbatch", "--parsable", "--exclusive", "--no-requeue"]
    assert {"--nodes=4", "--ntasks-per-node=2", "--cpus-per-task=1", "--time=10"} <= set(argv)
    i = argv.index(str(study_jobs.SCRIPT))
    assert argv[i + 1:i + 3] == [str(ROOT / "jobs" / "quickstart.toml"),
                                 str(tmp_path / "strong-n4-r2-t1-k1")]
    assert argv[i + 3:i + 5] == ["--set", "hidden=[4]"]


def test_weak_frame_holds_the_first_rows(tmp_path):
    from mpidl.data.frame import Frame
    src = str(ROOT / "data" / "prostate.csv")
    out = study_jobs.weak_frame(src, 57, tmp_path)
    full, part = Frame(src), Frame(out)
    assert part.nrows == 57 and part.info.names == full.info.names
    want = full.read(["AGE", "PSA"], 0, 57)
    got = part.read(["AGE", "PSA"])
    assert all((want[c] == got[c]).all() for c in want)


def _history(speed, samples, iterations, phases, duration):
    """Two scoring-history rows whose phase seconds add up to ``phases``."""
    half = {f"{k}_seconds": v / 2 for k, v in phases.items()}
    return [dict(training_speed=speed / 2, samples=samples // 2, iterations=iterations // 2,
                 duration=duration / 2, **half),
            dict(training_speed=speed, samples=samples, iterations=iterations,
                 duration=duration, **half)]


def test_rows_speedups_and_table_by_hand(tmp_path):
    phases = dict(compute=8.0, wait=0.5, allreduce=0.25, scoring=1.0, checkpoint=0.0)
    pts = [study_file.Point("strong", n, 2, 1) for n in (1, 2, 4)]
    speeds = {1: 1000.0, 2: 1800.0, 4: 3000.0}
    for p in pts[:2]:
        (tmp_path / f"{p.tag}.json").write_text(json.dumps(dict(
            nranks=p.ranks,
            scoring_history=_history(speeds[p.nodes], 40000, 20, phases, 10.0))))
    rows = [study_results.point_row(p, str(10 + i), state, tmp_path)
            for i, (p, state) in enumerate(zip(pts, ("COMPLETED", "COMPLETED", "FAILED")))]
    study_results.add_speedups(rows)
    a, b, c = rows
    assert a["samples_per_s"] == 1000.0 and a["samples"] == 40000 and a["iterations"] == 20
    assert a["compute_s"] == 8.0 and a["wait_s"] == 0.5 and a["allreduce_s"] == 0.25
    assert a["other_s"] == pytest.approx(10.0 - 9.75)
    # 2 nodes: 1,800 / 1,000 = 1.8 of an ideal 2 (4 cores over 2), efficiency 0.9
    assert (b["speedup"], b["ideal_speedup"], b["efficiency"]) == (1.8, 2.0, 0.9)
    assert a["efficiency"] == 1.0 and c["samples_per_s"] == "" and c["speedup"] == ""
    study_results.write_csv(rows, tmp_path / "study.csv")
    with open(tmp_path / "study.csv") as f:
        back = list(csv.DictReader(f))
    assert [r["job_id"] for r in back] == ["10", "11", "12"]
    assert back[1]["efficiency"] == "0.9" and back[2]["samples_per_s"] == ""
    text = study_results.table(study_results.summary(rows))
    # per iteration: 8 s / 20 = 400 ms compute, 25 wait, 12.5 allreduce, 50 scoring, 0
    assert "| strong | 2 | 2 x 1 | 1/1 (COMPLETED) | 1,800 | 1.80 (2) | 90 % | 20 | " \
           "400.0 / 25.0 / 12.5 / 50.0 / 0.0 |" in text
    assert "| strong | 4 | 2 x 1 | 0/1 (FAILED) | - | - | - | - | - |" in text


def test_repeats_run_in_rounds_and_are_summed_up(tmp_path):
    s = study_file.read_study(str(_study(tmp_path, nodes="1, 2", extra="repeats = 2")))
    pts = study_file.points(s)
    assert [(p.repeat, p.ranks_per_node, p.nodes) for p in pts] == [
        (1, 1, 1), (1, 1, 2), (1, 2, 1), (1, 2, 2), (2, 1, 1), (2, 1, 2), (2, 2, 1), (2, 2, 2)]
    assert len({p.tag for p in pts}) == 8
    phases = dict(compute=1.0, wait=0.0, allreduce=0.0, scoring=0.0, checkpoint=0.0)
    # round 1: 1 core 100, 2 nodes x 1 rank 180 (90 %); round 2: 120 and 192 (80 %)
    speeds = {(1, 1): 100.0, (1, 2): 180.0, (2, 1): 120.0, (2, 2): 192.0}
    rows = []
    for p in pts:
        if p.ranks_per_node == 1:
            (tmp_path / f"{p.tag}.json").write_text(json.dumps(dict(
                nranks=p.ranks,
                scoring_history=_history(speeds[p.repeat, p.nodes], 1000, 10, phases, 2.0))))
        rows.append(study_results.point_row(p, "1", "COMPLETED", tmp_path))
    study_results.add_speedups(rows)
    two = next(x for x in study_results.summary(rows)
               if (x["nodes"], x["ranks_per_node"]) == (2, 1))
    assert two["sps"] == 186.0 and two["sps_sd"] == pytest.approx(8.485281, abs=1e-6)
    assert two["speedup"] == pytest.approx((1.8 + 1.6) / 2)
    assert (two["eff"], two["eff_min"], two["eff_max"]) == (pytest.approx(0.85), 0.8, 0.9)
    text = study_results.table(study_results.summary(rows))
    assert "| strong | 2 | 1 x 1 | 2/2 (COMPLETED) | 186 ± 8 | 1.70 (2) | 85 % (80-90) |" in text


# ---------------------------------------------------------------------------- live SLURM
@pytest.mark.timeout(300)
def test_sbatch_study_one_node_end_to_end(slurm, tmp_path):
    """Nodes 1, ranks 1 and 2: both points submitted, trained under SLURM, gathered."""
    path, out = _study(tmp_path), tmp_path / "out"
    r = slurm_run([sys.executable, ROOT / "benchmarks" / "scaling.py", "--slurm", path,
                   "--out", out], timeout=280, cwd=tmp_path)
    logs = "".join(p.read_text() for p in sorted(out.glob("*.out"))) if out.exists() else ""
    assert r.returncode == 0, f"{r.stdout}\n{r.stderr}\n{logs}"
    with open(out / "study.csv") as f:
        rows = list(csv.DictReader(f))
    assert [(x["nodes"], x["ranks_per_node"], x["ranks"]) for x in rows] == [
        ("1", "1", "1"), ("1", "2", "2")]
    for x, tag in zip(rows, ("strong-n1-r1-t1-k1", "strong-n1-r2-t1-k1")):
        assert x["state"] == "COMPLETED", x
        info = json.loads((out / f"{tag}.json").read_text())
        assert info["nranks"] == int(x["ranks"])
        # 20,000 samples asked: the run ends with the first iteration past them
        assert 20000 <= int(x["samples"]) == info["run"]["samples"] < 30000
        assert float(x["samples_per_s"]) == info["scoring_history"][-1]["training_speed"] > 0
        assert float(x["compute_s"]) > 0 and float(x["other_s"]) > -0.01
    one, two = (float(x["samples_per_s"]) for x in rows)
    assert float(rows[1]["speedup"]) == pytest.approx(two / one, abs=1e-4)
    assert float(rows[1]["efficiency"]) == pytest.approx(two / one / 2, abs=1e-4)
    assert (out / "study.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "| strong | 1 | 2 x 1 | 1/1 (COMPLETED) |" in r.stdout
    assert "Traceback" not in r.stdout + r.stderr + logs


# ----------------------------------------------------------- slurm/scaling.sbatch, stand-ins
FAKE_SRUN = """#!/bin/bash
printf '%s\\n' "$@" > "$FAKE_DIR/srun.args"
exit "${FAKE_RC:-0}"
"""
FAKE_PYTHON = """#!/bin/bash
case "$*" in
  *"-m mpidl inspect"*) echo '{"model": "'"$4"'"}' ;;
  *) echo "MPICH Version: 5.0.2" ;;
esac
"""


def test_scaling_script_fake_srun(tmp_path):
    """The point's ranks come from srun with the threads SLURM gave each task; the model's
    inspect --json lands beside it; a failed srun fails the job and leaves no result."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    for name, text in (("srun", FAKE_SRUN), ("python", FAKE_PYTHON)):
        (bindir / name).write_text(text)
        (bindir / name).chmod(0o755)
    env = dict(os.environ, PATH=f"{bindir}{os.pathsep}{os.environ['PATH']}",
               FAKE_DIR=str(tmp_path), SLURM_CPUS_PER_TASK="3",
               MPIDL_PYTHON=str(bindir / "python"))
    env.pop("MPIDL_SRUN_MPI", None)
    script = ROOT / "slurm" / "scaling.sbatch"
    r = slurm_run(["bash", script, "job.toml", tmp_path / "p", "--set", "epochs=2"],
                  cwd=tmp_path, env=env)
    assert r.returncode == 0, r.stderr
    a = (tmp_path / "srun.args").read_text().splitlines()
    assert a[:3] == ["--mpi=pmi2", "--kill-on-bad-exit=1", "--cpus-per-task=3"]
    assert a[a.index("mpidl") + 1:] == ["train", "job.toml", "--set", "epochs=2",
                                        "--threads", "3", "-o", f"{tmp_path}/p.h5"]
    assert json.loads((tmp_path / "p.json").read_text()) == {"model": f"{tmp_path}/p.h5"}
    r = slurm_run(["bash", script, "job.toml", tmp_path / "p"], cwd=tmp_path,
                  env=dict(env, FAKE_RC="2"))
    assert r.returncode == 2 and not (tmp_path / "p.json").exists()
    r = slurm_run(["bash", script, "job.toml"], cwd=tmp_path, env=env)
    assert r.returncode == 2 and "usage:" in r.stderr
