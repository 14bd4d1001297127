"""Adversarial cases: ``mpidl export`` of a file that is no mpidl model, or to an output that
cannot be written; the exported scorer on a CSV it cannot score.  One line, exit 2, nothing
written, the model file untouched."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from harness import fingerprint, refused, run

pytestmark = [pytest.mark.adversarial, pytest.mark.mpi_skip]

PROSTATE = Path(__file__).parents[2] / "data" / "prostate.csv"


@pytest.fixture(scope="module")
def model(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("export")
    (d / "job.toml").write_text(f'training_frame = "{PROSTATE}"\nresponse_column = "CAPSULE"\n'
                                'ignored_columns = ["ID"]\nhidden = [3]\nepochs = 1\nseed = 1\n')
    assert run(["train", "job.toml", "--threads", "1", "-o", "m.h5"], cwd=d).returncode == 0
    return d / "m.h5"


def _foreign(kind: str, model: Path, tmp_path: Path) -> Path:
    path = tmp_path / "bad.h5"
    if kind == "csv":
        shutil.copyfile(PROSTATE, path)
    elif kind == "random-bytes":
        path.write_bytes(bytes(range(256)) * 64)
    elif kind == "truncated":
        path.write_bytes(model.read_bytes()[: model.stat().st_size // 2])
    else:   # an HDF5 table, not a model
        assert run(["import", PROSTATE, "-o", path], cwd=tmp_path).returncode == 0
    return path


@pytest.mark.parametrize("kind", ["csv", "random-bytes", "truncated", "hdf5-table"])
@pytest.mark.parametrize("fmt", ["python", "onnx"])
def test_export_of_a_file_that_is_no_model(kind, fmt, model, tmp_path):
    """A CSV, random bytes, half a model file or an imported table: refused naming the file;
    no output written."""
    bad = _foreign(kind, model, tmp_path)
    out = tmp_path / ("m.onnx" if fmt == "onnx" else "scorer.py")
    before = fingerprint([bad, out, tmp_path / "m.preprocessing.json"])
    refused(run(["export", bad, "--format", fmt, "-o", out], cwd=tmp_path), str(bad),
            untouched=before)


@pytest.mark.parametrize("where", ["missing-folder", "proc", "is-the-model", "a-folder"])
def test_export_to_an_output_that_cannot_be_written(where, model, tmp_path):
    """-o in a missing folder, in /proc, onto the model itself, or onto a folder: refused
    naming the output; the model untouched."""
    out = {"missing-folder": tmp_path / "no" / "scorer.py", "proc": Path("/proc/mpidl-x.py"),
           "is-the-model": model, "a-folder": tmp_path}[where]
    before = fingerprint([model])
    refused(run(["export", model, "-o", out], cwd=tmp_path), str(out), untouched=before)


@pytest.mark.parametrize("where", ["missing-folder", "a-file", "proc"])
def test_weights_into_a_folder_that_cannot_be_written(where, model, tmp_path):
    """--weights into a missing folder, onto a file, or into /proc: refused naming it."""
    target = {"missing-folder": tmp_path / "absent", "a-file": PROSTATE,
              "proc": Path("/proc")}[where]
    before = fingerprint([model, PROSTATE])
    refused(run(["export", model, "--weights", target], cwd=tmp_path), str(target),
            untouched=before)


def test_export_without_an_output(model, tmp_path):
    """Neither -o nor --weights: one line saying what to give."""
    refused(run(["export", model], cwd=tmp_path), "-o", "--weights")


def test_onnx_without_the_extra(model, tmp_path):
    """--format onnx where the onnx package cannot be imported: one line naming
    ``pip install mpidl[onnx]``, nothing written."""
    blocker = tmp_path / "block"
    (blocker / "onnx").mkdir(parents=True)
    (blocker / "onnx" / "__init__.py").write_text("raise ImportError('onnx blocked')\n")
    env = {**__import__("os").environ, "PYTHONPATH": str(blocker)}
    out = tmp_path / "m.onnx"
    before = fingerprint([out, tmp_path / "m.preprocessing.json"])
    refused(run(["export", model, "--format", "onnx", "-o", out], cwd=tmp_path, env=env),
            "mpidl[onnx]", untouched=before)


@pytest.mark.parametrize("data", ["missing", "no-common-column"])
def test_scorer_on_a_csv_it_cannot_score(data, model, tmp_path):
    """The exported scorer given a missing CSV, or one sharing no column with the model:
    one line ``scorer: error: ...`` naming the file, exit 2, no traceback."""
    scorer = tmp_path / "scorer.py"
    assert run(["export", model, "-o", scorer], cwd=tmp_path).returncode == 0
    csv = tmp_path / "other.csv"
    if data == "no-common-column":
        csv.write_text("x,y\n1,2\n")
    proc = subprocess.run([sys.executable, scorer, csv, "-o", tmp_path / "p.csv"],
                          capture_output=True, text=True, timeout=60, cwd=tmp_path)
    line = refused(proc, str(csv))
    assert line.startswith("scorer: error:")
    assert not (tmp_path / "p.csv").exists()
