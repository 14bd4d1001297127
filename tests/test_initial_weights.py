"""``initial_weights`` / ``initial_biases`` (issue 15, point 5): H2O's per-layer frames.

A model's ``export --weights`` tables, given back as initial weights and biases of a new model
trained for 0 epochs, give that model the same network: `mpidl predict` writes the same file
(Maxout, whose weight frames hold two rows per unit, checks the raw order).  A layer is loaded
only when both its frames are given, as in H2O; the others keep the seed's random start, read
from a model of the same seed without initial frames.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest
from cli_run import mpidl, prostate
from launcher import mpirun_argv
from mpi_job import job_env

HIDDEN = [4, 3]


def _job(d: Path, name: str, seed: int, epochs: float, ranks: int = 1, **extra) -> Path:
    lines = [f'training_frame = "{prostate()}"', 'response_column = "CAPSULE"',
             'ignored_columns = ["ID"]', f"hidden = {HIDDEN}", 'activation = "Maxout"',
             f"epochs = {epochs}", f"seed = {seed}", "export_weights_and_biases = true"]
    lines += [f"{k} = {v}" for k, v in extra.items()]
    (d / f"{name}.toml").write_text("\n".join(lines) + "\n")
    cmd = [sys.executable, "-m", "mpidl", "train", f"{name}.toml", "--threads", "1", "-o",
           f"{name}.h5"]
    proc = subprocess.run((mpirun_argv(ranks) if ranks > 1 else []) + cmd, capture_output=True,
                          text=True, timeout=300, cwd=d, env=job_env())
    assert proc.returncode == 0, proc.stderr
    return d / f"{name}.h5"


def _list(paths) -> str:
    return "[" + ", ".join(f'"{p}"' for p in paths) + "]"


def _tables(model: Path) -> dict[str, np.ndarray]:
    with h5py.File(model, "r") as f:
        return {k: v[...] for k, v in f["weights_and_biases"].items()}


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> tuple[Path, Path]:
    """(folder, model): a trained Maxout model and its ``export --weights`` folder."""
    d = tmp_path_factory.mktemp("initial")
    model = _job(d, "source", seed=3, epochs=1)
    (d / "w").mkdir()
    proc = mpidl("export", model, "--weights", d / "w", "-o", d / "scorer.py", cwd=d)
    assert proc.returncode == 0, proc.stderr
    return d, model


def test_exported_weights_round_trip_into_a_new_model(exported):
    d, source = exported
    n = len(HIDDEN) + 1
    model = _job(d, "copy", seed=9, epochs=0,
                 initial_weights=_list(f"w/weights_{i}.csv" for i in range(n)),
                 initial_biases=_list(f"w/biases_{i}.csv" for i in range(n)))
    want, got = _tables(source), _tables(model)
    for name in want:
        np.testing.assert_array_equal(got[name], want[name])
    for m in (source, model):
        proc = mpidl("predict", m, prostate(), "-o", f"{m.stem}.csv", cwd=d)
        assert proc.returncode == 0, proc.stderr
    assert (d / "copy.csv").read_text() == (d / "source.csv").read_text()


def test_a_layer_loads_only_with_both_frames(exported):
    """Layer 0: both frames; layer 1: weights only; layer 2: neither.  Layers 1 and 2 keep the
    random start of seed 9 (a model of seed 9 without initial frames)."""
    d, source = exported
    w, given = d / "w", _tables(source)
    model = _job(d, "partial", seed=9, epochs=0,
                 initial_weights=_list([w / "weights_0.csv", w / "weights_1.csv", ""]),
                 initial_biases=_list([w / "biases_0.csv", "", ""]))
    random = _tables(_job(d, "random", seed=9, epochs=0))
    got = _tables(model)
    np.testing.assert_array_equal(got["weights_0"], given["weights_0"])
    np.testing.assert_array_equal(got["biases_0"], given["biases_0"])
    for name in ("weights_1", "biases_1", "weights_2", "biases_2"):
        np.testing.assert_array_equal(got[name], random[name])
    assert not np.array_equal(random["weights_1"], given["weights_1"])


@pytest.mark.mpi_skip
def test_every_rank_starts_from_the_frames(exported):
    """Under mpirun -n 2, an epoch at a learning rate of 1e-30 (no visible step): the model,
    the average of the ranks' models, holds the frames' values only if every rank started
    from them."""
    d, source = exported
    n = len(HIDDEN) + 1
    model = _job(d, "copy2", seed=5, epochs=1, ranks=2, adaptive_rate="false", rate=1e-30,
                 initial_weights=_list(f"w/weights_{i}.csv" for i in range(n)),
                 initial_biases=_list(f"w/biases_{i}.csv" for i in range(n)))
    want, got = _tables(source), _tables(model)
    for name in want:
        np.testing.assert_allclose(got[name], want[name], rtol=1e-6, atol=1e-12)
