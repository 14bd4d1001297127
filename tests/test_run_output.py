"""What a training run prints and records (issue 18, points 1, 2, 3, 4), line by line.

Each test compares whole lines: measured numbers (speeds, seconds, memory) are matched by
patterns, everything else literally.  References: the scoring history of the same run (the
kept model is the one with the lowest validation logloss), H2O's rules for which sanitizing
notes matter, and hand-computed estimates of the time left.
"""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest
from cli_run import mpidl, prostate

from mpidl.train.progress import Progress

NUM = r"[0-9.]+"
ITER = (rf"iter +\d+  epochs +{NUM}  samples +\d+ +\d+ rows/s  elapsed +[0-9.hms]+  "
        rf"left +[0-9.hms?]+  train (RMSE|logloss) .*")
MEMORY = (rf"memory per rank \(MB\): peak RSS \d+, data read \d+, data held \d+, model {NUM}, at start \d+; "
          r"at end RSS \d+, PSS \d+, shared \d+")


def _job(d: Path, name: str, lines: list[str]) -> Path:
    job = d / f"{name}.toml"
    job.write_text("\n".join(lines) + "\n")
    return job


def _train(d: Path, job: Path, out: str):
    proc = mpidl("train", job, "--threads", "1", "-o", d / out, cwd=d)
    assert proc.returncode == 0, proc.stderr
    return proc


def _inspect(d: Path, model: str) -> dict:
    proc = mpidl("inspect", d / model, "--json", cwd=d)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def _match_lines(lines: list[str], patterns: list[str]) -> None:
    assert len(lines) == len(patterns), "\n".join(lines)
    for line, pattern in zip(lines, patterns):
        assert re.fullmatch(pattern, line), f"{line!r} !~ {pattern!r}"


@pytest.fixture(scope="module")
def work(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("run_output")


@pytest.fixture(scope="module")
def default_job(work):
    """A job that sets only what is required (regression on CAPSULE, H2O's defaults)."""
    job = _job(work, "plain", [f'training_frame = "{prostate()}"', 'response_column = "CAPSULE"',
                               'ignored_columns = ["ID"]'])
    return job, _train(work, job, "plain.h5")


def test_default_job_prints_no_note_about_unset_parameters(work, default_job):
    job, proc = default_job
    assert proc.stderr == ""
    lines = proc.stdout.splitlines()
    out = re.escape(str(work / "plain.h5"))
    _match_lines(lines[:3] + lines[-2:], [
        re.escape("note: distribution: AUTO -> gaussian (AUTO with Automatic loss)"),
        re.escape("note: loss: Automatic -> Quadratic (Automatic for gaussian)"),
        # 7 inputs -> 200 -> 200 -> 1: (7 + 1) 200 + (200 + 1) 200 + (200 + 1) = 42001
        r"training plain: 380 rows, 42001 weights/biases, 1 rank\(s\) x 1 thread\(s\), \d+ "
        r"samples/iteration, model allreduce 0\.0 ms, stopping metric deviance",
        MEMORY,
        rf"model written to {out} \(10\.000 epochs\); stopped: epochs reached \(10\.000 of 10\); "
        rf"training RMSE {NUM}",
    ])
    _match_lines(lines[3:-2], [ITER] * len(lines[3:-2]))
    assert lines[-3].split("left")[1].split()[0] == "0.0s"   # the last scoring: nothing left


def test_user_values_that_change_get_a_note(work):
    """rate is ignored under ADADELTA: a note when the job sets it, none when it does not."""
    job = _job(work, "rate", [f'training_frame = "{prostate()}"', 'response_column = "CAPSULE"',
                              'ignored_columns = ["ID"]', "hidden = [5]", "epochs = 1",
                              "rate = 0.01", 'distribution = "gaussian"', 'loss = "Quadratic"'])
    lines = _train(work, job, "rate.h5").stdout.splitlines()
    assert [x for x in lines if x.startswith("note:")] == [
        "note: rate: 0.01 -> 0 (unused with adaptive_rate)"]


def test_quiet_mode_prints_only_the_final_line(work):
    job = _job(work, "quiet", [f'training_frame = "{prostate()}"', 'response_column = "CAPSULE"',
                               'ignored_columns = ["ID"]', "hidden = [5]", "epochs = 2",
                               "quiet_mode = true"])
    proc = _train(work, job, "quiet.h5")
    assert proc.stderr == ""
    _match_lines(proc.stdout.splitlines(), [
        rf"model written to {re.escape(str(work / 'quiet.h5'))} \(2\.000 epochs\); stopped: "
        rf"epochs reached \(2\.000 of 2\); training RMSE {NUM}"])


@pytest.fixture(scope="module")
def early(work):
    """Overfits 100 rows, validated on 180 others: stops early, keeps an earlier model."""
    rows = list(csv.reader(open(prostate(), newline="")))
    for name, part in (("tr.csv", rows[1:101]), ("va.csv", rows[-180:])):
        with open(work / name, "w", newline="") as f:
            csv.writer(f).writerows([rows[0]] + part)
    job = _job(work, "early", ['training_frame = "tr.csv"', 'validation_frame = "va.csv"',
                               'response_column = "CAPSULE"', 'ignored_columns = ["ID"]',
                               'distribution = "bernoulli"', "hidden = [100, 100]",
                               "epochs = 1000", "seed = 1", "reproducible = true",
                               "train_samples_per_iteration = 1000", "stopping_rounds = 2"])
    return _train(work, job, "early.h5").stdout.splitlines(), _inspect(work, "early.h5")


def test_early_stop_and_best_model_restore_lines(work, early):
    lines, report = early
    hist = report["scoring_history"]
    losses = [r["validation_logloss"] for r in hist]
    best = hist[losses.index(min(losses))]
    last = hist[-1]
    assert best is not last, "this job should end past its best model"
    n = len(hist)
    assert lines[2:2 + n] == [x for x in lines if x.startswith("iter ")]   # no extra iter line
    _match_lines(lines[-2:], [
        re.escape(f"kept the model of iteration {best['iterations']} ({best['epochs']:.3f} "
                  f"epochs, {best['samples']:,} samples): its validation logloss "
                  f"{best['validation_logloss']:.5g} beats the last iteration's "
                  f"{last['validation_logloss']:.5g} (overwrite_with_best_model)"),
        re.escape(f"model written to {work / 'early.h5'} (the model of iteration "
                  f"{best['iterations']}, {best['epochs']:.3f} epochs); stopped: early stopping "
                  "on logloss (no improvement of more than stopping_tolerance 0 over 2 scoring "
                  f"rounds, {last['epochs']:.3f} epochs); validation classification_error "
                  f"{best['validation_classification_error']:.5g}"),
    ])


def test_restored_model_records_its_own_and_the_run_counters(early):
    _, report = early
    hist = report["scoring_history"]
    iters = [r["iterations"] for r in hist]
    assert iters == list(range(1, len(hist) + 1))          # one row per scoring, none repeated
    losses = [r["validation_logloss"] for r in hist]
    best, last = hist[losses.index(min(losses))], hist[-1]
    assert report["epochs"] == best["epochs"] and report["samples"] == best["samples"]
    assert report["kept_model"]["iteration"] == best["iterations"]
    assert report["run"] == {"iterations": last["iterations"], "epochs": last["epochs"],
                             "samples": last["samples"]}
    assert report["validation_metrics"]["logloss"] == pytest.approx(best["validation_logloss"],
                                                                    rel=1e-6)
    assert report["stop_reason"] == "early_stopping"


def test_epochs_full_precision_in_json_rounded_alike_in_text(work):
    """4 iterations of 100 samples over 380 rows: JSON holds 400/380 exactly; the log and
    inspect show 1.053."""
    job = _job(work, "frac", [f'training_frame = "{prostate()}"', 'response_column = "CAPSULE"',
                              'ignored_columns = ["ID"]', "hidden = [5]", "epochs = 1.02",
                              "train_samples_per_iteration = 100", "seed = 2",
                              "reproducible = true"])
    log = _train(work, job, "frac.h5").stdout.splitlines()
    report = _inspect(work, "frac.h5")
    assert report["epochs"] == 400 / 380 and report["scoring_history"][-1]["epochs"] == 400 / 380
    assert re.fullmatch(r"iter +4  epochs +1\.053  samples +400 .*", log[-3])
    text = mpidl("inspect", work / "frac.h5", cwd=work).stdout.splitlines()
    head = text.index(next(x for x in text if x.startswith("Scoring history")))
    cols, row = text[head + 1].split(), text[head + 5].split()
    assert row[cols.index("epochs")] == "1.053"
    assert text[head] == "Scoring history (4 events; stopped: epochs reached (1.053 of 1.02)):"


def test_confusion_matrix_header_printed_once(early, work):
    text = mpidl("inspect", work / "early.h5", cwd=work).stdout
    assert text.lower().count("confusion matrix") == 2        # training and validation
    lines = text.splitlines()
    heads = [i for i, x in enumerate(lines) if "confusion matrix" in x.lower()]
    assert [lines[i] for i in heads] == ["  Confusion Matrix (vertical: actual; across: "
                                         "predicted)"] * 2
    assert lines[heads[0] + 1].split() == ["0", "1", "Error", "Rate"]


# ------------------------------------------------------------------ time left (hand formula)

def _row(it, epochs, seconds):
    return {"iterations": it, "epochs": epochs, "samples": int(epochs * 100),
            "training_speed": 1000.0, "duration": seconds, "training_rmse": 0.5}


def _left(line: str) -> str:
    return line.split("  left ")[1].split()[0]


def test_time_left_decreases_at_steady_speed():
    """2 s per epoch, 10 epochs: after e epochs, 2 (10 - e) seconds are left."""
    prog = Progress(epochs=10, max_runtime=0, start_epochs=0, start_seconds=0)
    lines = [prog.line(_row(e, e, 2.0 * e)) for e in range(1, 11)]
    assert [_left(x) for x in lines] == ["18.0s", "16.0s", "14.0s", "12.0s", "10.0s", "8.0s",
                                        "6.0s", "4.0s", "2.0s", "0.0s"]
    assert lines[0] == ("iter    1  epochs    1.000  samples        100       1000 rows/s  "
                        "elapsed   2.0s  left  18.0s  train RMSE 0.5")


def test_time_left_ends_at_max_runtime_or_counts_from_a_restart():
    capped = Progress(epochs=100, max_runtime=30, start_epochs=0, start_seconds=0)
    assert capped.seconds_left(1, 20) == 10           # 1980 s to the epochs, 10 s to the limit
    resumed = Progress(epochs=10, max_runtime=0, start_epochs=5, start_seconds=100)
    assert resumed.seconds_left(6, 103) == 12         # 3 s per epoch in this run, 4 epochs left
    long = Progress(epochs=10, max_runtime=0, start_epochs=0, start_seconds=0)
    assert _left(long.line(_row(1, 1, 500.0))) == "1h15m"


def test_slurm_job_limit_is_shown():
    prog = Progress(epochs=10, max_runtime=0, start_epochs=0, start_seconds=0,
                    job_end=1_000_000.0)
    line = prog.line(_row(5, 5, 10.0), now=1_000_000.0 - 3725)
    assert "  left  10.0s  job limit in 1h02m  train RMSE 0.5" in line


# ------------------------------------------------------------------ stop reasons in words

@pytest.mark.parametrize("reason, text", [
    ("epochs", "epochs reached (2.500 of 2.5)"),
    ("early_stopping", "early stopping on logloss (no improvement of more than "
                       "stopping_tolerance 0.001 over 3 scoring rounds, 2.500 epochs)"),
    ("max_runtime_secs", "max_runtime_secs (60s) reached after 1m01s, 2.500 epochs"),
    ("classification_stop", "training classification error <= classification_stop 0.05 "
                            "(2.500 epochs)"),
    ("regression_stop", "training MSE <= regression_stop 1e-06 (2.500 epochs)"),
])
def test_stop_reason_in_words(reason, text):
    from types import SimpleNamespace

    from mpidl.params import Params
    from mpidl.report import stop_text
    p = Params(epochs=2.5, stopping_rounds=3, stopping_tolerance=1e-3, max_runtime_secs=60,
               classification_stop=0.05)
    model = SimpleNamespace(params=p, stop_reason=reason, run_totals={"epochs": 2.5},
                            epoch_counter=1.0, train_seconds=61.0)
    assert stop_text(model, "logloss") == text


def test_max_runtime_final_line(work):
    """A 1 ms limit ends the run after its first iterations, and H2O's rule skips the restore."""
    job = _job(work, "limit", [f'training_frame = "{prostate()}"', 'response_column = "CAPSULE"',
                               'ignored_columns = ["ID"]', "hidden = [20]", "epochs = 100000",
                               "max_runtime_secs = 0.001"])
    lines = _train(work, job, "limit.h5").stdout.splitlines()
    _match_lines(lines[-1:], [
        rf"model written to {re.escape(str(work / 'limit.h5'))} \({NUM} epochs\); stopped: "
        rf"max_runtime_secs \(0\.001s\) reached after [0-9.hms]+, {NUM} epochs; training RMSE {NUM}"])
    assert not any(x.startswith("kept the model") for x in lines)
