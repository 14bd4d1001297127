"""Adversarial cases: ``initial_weights`` / ``initial_biases`` frames that cannot start the
network: a frame of the wrong shape, a missing file, a non-numeric or incomplete frame, the
wrong number of frames, frames given with a checkpoint.  One line naming the parameter (and
the file), exit 2, on every rank; no model written."""

from pathlib import Path

import numpy as np
import pytest
from harness import fingerprint, refused, run

pytestmark = [pytest.mark.adversarial, pytest.mark.mpi_skip]

PROSTATE = Path(__file__).resolve().parents[2] / "data" / "prostate.csv"
# prostate without ID: 7 numeric inputs; hidden = [3]; CAPSULE numeric: 1 output
SHAPES = {"weights_0": (3, 7), "biases_0": (3, 1), "weights_1": (1, 3), "biases_1": (1, 1)}


def _csv(path: Path, table: np.ndarray) -> Path:
    header = ",".join(f"C{j + 1}" for j in range(table.shape[1]))
    path.write_text(header + "\n" + "\n".join(",".join(map(str, r)) for r in table) + "\n")
    return path


def _frames(d: Path, **override) -> dict[str, str]:
    """{name: CSV path} of frames of the right shapes, ``override``'s tables in their place."""
    rng = np.random.default_rng(4)
    return {n: str(_csv(d / f"{n}.csv", override.get(n, rng.normal(size=s))))
            for n, s in SHAPES.items()}


def _job(d: Path, frames: dict, extra: str = "", layers: int = 2) -> Path:
    w = [frames[f"weights_{i}"] if i < 2 else "" for i in range(layers)]
    b = [frames[f"biases_{i}"] if i < 2 else "" for i in range(layers)]
    job = d / "job.toml"
    job.write_text(f'training_frame = "{PROSTATE}"\nresponse_column = "CAPSULE"\n'
                   'ignored_columns = ["ID"]\nhidden = [3]\nepochs = 1\nseed = 1\n'
                   f"initial_weights = {w!r}\ninitial_biases = {b!r}\n".replace("'", '"')
                   + extra)
    return job


def _refused(d: Path, job: Path, *culprits, ranks=None) -> None:
    model = d / "m.h5"
    refused(run(["train", job, "--threads", "1", "-o", model], cwd=d, ranks=ranks), *culprits,
            untouched=fingerprint([model]))


@pytest.mark.parametrize("ranks", [None, 2])
def test_weights_of_the_wrong_shape(tmp_path, ranks):
    """A transposed first-layer matrix: 7 x 3 where the layer needs 3 x 7."""
    frames = _frames(tmp_path, weights_0=np.ones((7, 3)))
    _refused(tmp_path, _job(tmp_path, frames), "'initial_weights'", frames["weights_0"],
             "7 rows x 3 columns", "3 x 7", ranks=ranks)


def test_biases_of_the_wrong_shape(tmp_path):
    frames = _frames(tmp_path, biases_1=np.ones((2, 1)))
    _refused(tmp_path, _job(tmp_path, frames), "'initial_biases'", frames["biases_1"])


@pytest.mark.parametrize("ranks", [None, 2])
def test_a_missing_frame(tmp_path, ranks):
    frames = _frames(tmp_path)
    frames["biases_0"] = str(tmp_path / "nowhere.csv")
    _refused(tmp_path, _job(tmp_path, frames), "'initial_biases'", "nowhere.csv", ranks=ranks)


@pytest.mark.parametrize("value", ["abc", "NA"])
def test_a_frame_with_text_or_a_missing_value(tmp_path, value):
    frames = _frames(tmp_path)
    Path(frames["weights_1"]).write_text(f"C1,C2,C3\n0.1,{value},0.3\n")
    _refused(tmp_path, _job(tmp_path, frames), "'initial_weights'", frames["weights_1"])


def test_the_wrong_number_of_frames(tmp_path):
    """hidden = [3] has 2 weight layers; 3 frames given."""
    _refused(tmp_path, _job(tmp_path, _frames(tmp_path), layers=3), "'initial_weights'",
             "2 for hidden = [3]")


def test_frames_with_a_checkpoint(tmp_path):
    d = tmp_path
    (d / "first.toml").write_text(f'training_frame = "{PROSTATE}"\nresponse_column = "CAPSULE"\n'
                                  'ignored_columns = ["ID"]\nhidden = [3]\nepochs = 1\nseed = 1\n')
    assert run(["train", "first.toml", "--threads", "1", "-o", "c.h5"], cwd=d).returncode == 0
    job = _job(d, _frames(d), extra='checkpoint = "c.h5"\nepochs = 2\n')
    job.write_text(job.read_text().replace("epochs = 1\n", ""))
    _refused(d, job, "'initial_weights'", "checkpoint")


# ---------------------------------------------------------------- offset_column

def _offset_frame(d: Path, offsets, name: str = "train.csv", with_offset: bool = True) -> Path:
    rng = np.random.default_rng(3)
    x = rng.normal(size=(40, 2))
    head = "x1,x2,y" + (",o" if with_offset else "")
    rows = [f"{a},{b},{a - b}" + (f",{o}" if with_offset else "")
            for (a, b), o in zip(x, offsets)]
    (d / name).write_text(head + "\n" + "\n".join(rows) + "\n")
    return d / name


def _offset_job(d: Path, frame: Path, extra: str = "") -> Path:
    job = d / "job.toml"
    job.write_text(f'training_frame = "{frame}"\nresponse_column = "y"\nhidden = [3]\n'
                   f'epochs = 1\noffset_column = "o"\n{extra}')
    return job


@pytest.mark.parametrize("ranks", [None, 2])
def test_a_categorical_offset_column(tmp_path, ranks):
    frame = _offset_frame(tmp_path, ["a", "b"] * 20)
    _refused(tmp_path, _offset_job(tmp_path, frame), str(frame), "'o'", "numeric", ranks=ranks)


@pytest.mark.parametrize("ranks", [None, 2])
def test_an_offset_column_with_a_missing_value(tmp_path, ranks):
    frame = _offset_frame(tmp_path, [0.5] * 39 + [""])
    _refused(tmp_path, _offset_job(tmp_path, frame), str(frame), "'o'", "missing", ranks=ranks)


def test_the_offset_column_as_weights_column(tmp_path):
    frame = _offset_frame(tmp_path, [1.0] * 40)
    _refused(tmp_path, _offset_job(tmp_path, frame, 'weights_column = "o"\n'),
             "'offset_column'", "weights_column")


def test_an_offset_with_a_categorical_response(tmp_path):
    frame = _offset_frame(tmp_path, [1.0] * 40)
    text = frame.read_text().splitlines()
    frame.write_text("\n".join([text[0]] + [",".join(r.split(",")[:2] + ["p" if i % 2 else "n"]
                                                      + r.split(",")[3:])
                                            for i, r in enumerate(text[1:])]) + "\n")
    _refused(tmp_path, _offset_job(tmp_path, frame), "'offset_column'", "regression")


@pytest.fixture(scope="module")
def offset_model(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("offset")
    job = _offset_job(d, _offset_frame(d, np.linspace(-1, 1, 40)))
    assert run(["train", job, "--threads", "1", "-o", "m.h5"], cwd=d).returncode == 0
    return d / "m.h5"


@pytest.mark.parametrize("ranks", [None, 2])
def test_predict_on_a_frame_without_the_offset_column(offset_model, tmp_path, ranks):
    frame = _offset_frame(tmp_path, [0.0] * 40, "test.csv", with_offset=False)
    out = tmp_path / "p.csv"
    refused(run(["predict", offset_model, frame, "-o", out], cwd=tmp_path, ranks=ranks),
            str(frame), "'o'", untouched=fingerprint([out, offset_model]))


def test_export_of_a_model_with_an_offset(offset_model, tmp_path):
    out = tmp_path / "scorer.py"
    refused(run(["export", offset_model, "-o", out], cwd=tmp_path), str(offset_model),
            "offset", untouched=fingerprint([out, offset_model]))


@pytest.mark.parametrize("job_offset", ["", 'offset_column = "x2"\n'])
def test_a_restart_that_changes_the_offset_column(offset_model, tmp_path, job_offset):
    """The checkpoint adds column o; a job without it, or with another one, is refused."""
    frame = _offset_frame(tmp_path, np.linspace(-1, 1, 40))
    job = tmp_path / "restart.toml"
    job.write_text(f'training_frame = "{frame}"\nresponse_column = "y"\nhidden = [3]\n'
                   f'epochs = 3\ncheckpoint = "{offset_model}"\n{job_offset}')
    _refused(tmp_path, job, "'offset_column'", str(offset_model))
