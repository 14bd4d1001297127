"""Bad input at the command line: exit code 2, one line on stderr naming the culprit, no model.

Every case runs ``python -m mpidl ...`` in a subprocess, as a user would, and checks the
contract of design.md: exit status 2, exactly one non-empty line on stderr, no traceback, the
line names the parameter / column / file at fault, and a failed ``train`` leaves no (partial)
model file and no temporary file next to where the model would have gone.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from cli_run import DATA, mpidl, prostate


def _fails(proc: subprocess.CompletedProcess, *culprits: str) -> str:
    """Assert the bad-input contract; returns the error line."""
    both = proc.stdout + proc.stderr
    assert "Traceback" not in both, both
    assert proc.returncode == 2, f"exit {proc.returncode}, stderr:\n{proc.stderr}"
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, f"expected one line on stderr, got:\n{proc.stderr}"
    assert len(proc.stderr.splitlines()) == 1, repr(proc.stderr)
    line = lines[0]
    for c in culprits:
        assert c in line, f"{c!r} not named in: {line}"
    return line


def _job(path: Path, **params) -> Path:
    """A TOML job from keyword arguments (values are written as TOML literals)."""
    def lit(v):
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, str):
            return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
        if isinstance(v, (list, tuple)):
            return "[" + ", ".join(lit(x) for x in v) + "]"
        return repr(v)
    path.write_text("".join(f"{k} = {lit(v)}\n" for k, v in params.items()))
    return path


def _prostate_job(path: Path, **extra) -> Path:
    params = dict(training_frame=str(prostate()), response_column="CAPSULE",
                  ignored_columns=["ID"], distribution="bernoulli", hidden=[5], epochs=1,
                  seed=1)
    params.update(extra)
    params = {k: v for k, v in params.items() if v is not None}
    return _job(path, **params)


def _train_fails(tmp_path: Path, job: Path, *culprits: str, sets=()) -> str:
    """``train`` must fail with the contract and leave nothing in its (empty) output folder."""
    outdir = tmp_path / "out"
    outdir.mkdir(exist_ok=True)
    out = outdir / "model.h5"
    args = ["train", job, "--threads", "1", "-o", out]
    for s in sets:
        args += ["--set", s]
    line = _fails(mpidl(*args, cwd=tmp_path), *culprits)
    assert not out.exists(), "a failed job left a model file"
    assert list(outdir.iterdir()) == [], f"a failed job left files: {list(outdir.iterdir())}"
    return line


# ----------------------------------------------------------------------------- parameters

def test_unknown_parameter_named_with_suggestion(tmp_path):
    job = _prostate_job(tmp_path / "job.toml", epochz=3)
    line = _train_fails(tmp_path, job, "epochz", "epochs", "job.toml")
    assert "did you mean" in line


def test_unknown_parameter_from_set(tmp_path):
    job = _prostate_job(tmp_path / "job.toml")
    _train_fails(tmp_path, job, "hiden", "hidden", sets=["hiden=[3]"])


def test_wrong_type(tmp_path):
    job = _prostate_job(tmp_path / "job.toml", epochs="ten")
    _train_fails(tmp_path, job, "epochs", "ten")


def test_out_of_range(tmp_path):
    job = _prostate_job(tmp_path / "job.toml", input_dropout_ratio=1.5)
    _train_fails(tmp_path, job, "input_dropout_ratio", "1.5")


def test_out_of_range_from_set(tmp_path):
    job = _prostate_job(tmp_path / "job.toml")
    _train_fails(tmp_path, job, "input_dropout_ratio", sets=["input_dropout_ratio=1.5"])


# ----------------------------------------------------------------------------------- data

def test_missing_response_column(tmp_path):
    job = _prostate_job(tmp_path / "job.toml", response_column="CAPSULEX")
    _train_fails(tmp_path, job, "CAPSULEX")


@pytest.mark.parametrize("name,text,extra,culprits", [
    ("const.csv", "a,b,y\n1,2,1\n3,4,1\n5,6,1\n7,9,1\n", {"distribution": "bernoulli"},
     ("'y'", "level")),
    ("const.csv", "a,b,y\n1,2,1\n3,4,1\n5,6,1\n7,9,1\n", {"distribution": "multinomial"},
     ("'y'", "level")),
    ("empty.csv", "", {}, ("empty.csv", "empty")),
    ("nan.csv", "a,b,y\n1,,1\n3,,0\n5,NA,1\n2,,0\n", {"ignore_const_cols": False},
     ("'b'", "nan.csv")),
], ids=["response-one-level-bernoulli", "response-one-level-multinomial", "empty-csv",
        "all-nan-predictor-kept"])
def test_bad_small_csv(tmp_path, name, text, extra, culprits):
    csv = tmp_path / name
    csv.write_text(text)
    job = _job(tmp_path / "job.toml", training_frame=str(csv), response_column="y", hidden=[5],
               epochs=1, **extra)
    _train_fails(tmp_path, job, *culprits)


def test_validation_frame_lacks_training_column(tmp_path):
    src = prostate().read_text().splitlines()
    # drop AGE (3rd column) from the validation copy
    valid = tmp_path / "noage.csv"
    valid.write_text("\n".join(",".join(c for i, c in enumerate(ln.split(",")) if i != 2)
                               for ln in src) + "\n")
    job = _prostate_job(tmp_path / "job.toml", validation_frame=str(valid))
    _train_fails(tmp_path, job, "AGE", "noage.csv")


def test_unreadable_hdf5_training_frame(tmp_path):
    fake = tmp_path / "x.h5"
    fake.write_text("this is not HDF5\n")
    job = _job(tmp_path / "job.toml", training_frame=str(fake), response_column="y",
               hidden=[5], epochs=1)
    _train_fails(tmp_path, job, "x.h5")


def test_missing_training_file(tmp_path):
    job = _job(tmp_path / "job.toml", training_frame=str(tmp_path / "nowhere.csv"),
               response_column="y", hidden=[5], epochs=1)
    _train_fails(tmp_path, job, "nowhere.csv")


# ----------------------------------------------------------------------------- checkpoints

@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory) -> Path:
    """A tiny prostate model (hidden [5], 1 epoch)."""
    d = tmp_path_factory.mktemp("ckpt")
    job = _prostate_job(d / "tiny.toml")
    proc = mpidl("train", job, "--threads", "1", "-o", d / "tiny.h5", cwd=d)
    assert proc.returncode == 0, proc.stderr
    return d / "tiny.h5"


def test_checkpoint_incompatible_hidden(tmp_path, checkpoint):
    job = _prostate_job(tmp_path / "job.toml", hidden=[6], epochs=2)
    _train_fails(tmp_path, job, "hidden", sets=[f"checkpoint={checkpoint}"])


def test_checkpoint_epochs_not_larger(tmp_path, checkpoint):
    for epochs in (1, 0.5):
        job = _prostate_job(tmp_path / "job.toml", epochs=epochs)
        _train_fails(tmp_path, job, "epochs", sets=[f"checkpoint={checkpoint}"])


def test_checkpoint_continues_when_valid(tmp_path, checkpoint):
    """Control for the two cases above: the same restart with more epochs works."""
    job = _prostate_job(tmp_path / "job.toml", epochs=2)
    out = tmp_path / "more.h5"
    proc = mpidl("train", job, "--threads", "1", "-o", out, "--set", f"checkpoint={checkpoint}",
                  cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert out.exists()


def _two_frames(tmp_path: Path, first: str, second: str, **params) -> tuple[Path, Path]:
    """(model trained 1 epoch on CSV text ``first``, CSV ``second``): a restart pair."""
    a, b = tmp_path / "first.csv", tmp_path / "second.csv"
    a.write_text(first)
    b.write_text(second)
    job = _job(tmp_path / "first.toml", training_frame=str(a), hidden=[3], epochs=1, seed=1,
               **params)
    model = tmp_path / "first.h5"
    proc = mpidl("train", job, "--threads", "1", "-o", model, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    return model, b


def test_checkpoint_new_predictor_level(tmp_path):
    rows = "".join(f"{c},{i},{i % 2}\n" for i, c in enumerate(["red", "green"] * 10))
    model, more = _two_frames(tmp_path, "color,x,y\n" + rows, "color,x,y\n" + rows + "blue,3,1\n",
                              response_column="y", distribution="bernoulli")
    job = _job(tmp_path / "job.toml", training_frame=str(more), response_column="y",
               distribution="bernoulli", hidden=[3], epochs=2, seed=1)
    _train_fails(tmp_path, job, "'color'", "levels", sets=[f"checkpoint={model}"])


def iris_two_and_three(tmp_path: Path) -> tuple[Path, Path]:
    """(iris with setosa + versicolor only, the whole iris with virginica), as CSV files."""
    lines = (DATA / "iris" / "iris_wheader.csv").read_text().splitlines()
    two, three = tmp_path / "iris2.csv", tmp_path / "iris3.csv"
    two.write_text("\n".join(ln for ln in lines if "virginica" not in ln) + "\n")
    three.write_text("\n".join(lines) + "\n")
    return two, three


def test_checkpoint_new_response_level(tmp_path):
    """H2O's test: train on setosa + versicolor, continue on data with virginica: refused."""
    two, three = iris_two_and_three(tmp_path)
    model, _ = _two_frames(tmp_path, two.read_text(), "", response_column="class")
    job = _job(tmp_path / "job.toml", training_frame=str(three), response_column="class",
               hidden=[3], epochs=2, seed=1)
    _train_fails(tmp_path, job, "'class'", "'Iris-virginica'", sets=[f"checkpoint={model}"])
    # predicting on data with the new level stays allowed
    preds = tmp_path / "p.csv"
    proc = mpidl("predict", model, three, "-o", preds, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert len(preds.read_text().splitlines()) == 1 + 150


def test_checkpoint_new_numeric_response_level(tmp_path):
    rows = "".join(f"{i},{i % 2}\n" for i in range(20))
    model, more = _two_frames(tmp_path, "x,y\n" + rows, "x,y\n" + rows + "3,2\n",
                              response_column="y", distribution="multinomial")
    job = _job(tmp_path / "job.toml", training_frame=str(more), response_column="y",
               distribution="multinomial", hidden=[3], epochs=2, seed=1)
    _train_fails(tmp_path, job, "'y'", "'2'", sets=[f"checkpoint={model}"])


# ------------------------------------------------------------------- predict / inspect / import

def test_predict_missing_model(tmp_path):
    _fails(mpidl("predict", tmp_path / "nope.h5", prostate(), "-o", tmp_path / "p.csv",
                  cwd=tmp_path), "nope.h5")
    assert not (tmp_path / "p.csv").exists()


def test_predict_missing_data(tmp_path, checkpoint):
    _fails(mpidl("predict", checkpoint, tmp_path / "nodata.csv", "-o", tmp_path / "p.csv",
                  cwd=tmp_path), "nodata.csv")
    assert not (tmp_path / "p.csv").exists()


def test_inspect_text_file(tmp_path):
    f = tmp_path / "notes.txt"
    f.write_text("not a model\n")
    _fails(mpidl("inspect", f, cwd=tmp_path), "notes.txt")


def test_inspect_hdf5_table_is_not_a_model(tmp_path):
    csv = tmp_path / "t.csv"
    csv.write_text("a,y\n1,0\n2,1\n")
    assert mpidl("import", csv, "-o", tmp_path / "t.h5", cwd=tmp_path).returncode == 0
    _fails(mpidl("inspect", tmp_path / "t.h5", "--json", cwd=tmp_path), "t.h5", "model")


def test_import_missing_file(tmp_path):
    _fails(mpidl("import", tmp_path / "missing.csv", "-o", tmp_path / "m.h5", cwd=tmp_path),
           "missing.csv")
    assert not (tmp_path / "m.h5").exists()


def test_usage_error_is_one_line(tmp_path):
    _fails(mpidl("train", cwd=tmp_path), "job")
