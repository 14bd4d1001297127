"""Adversarial cases: ``plot`` and ``report`` refuse, with one line and nothing written, a
missing matplotlib (the line says how to install it), an output folder that does not exist or
is a file, a report path in a missing folder, and a file that is not a model."""

from pathlib import Path

import pytest
from harness import fingerprint, refused, run

pytestmark = [pytest.mark.adversarial, pytest.mark.mpi_skip]

MODEL = Path(__file__).resolve().parent / "data" / "model_before_checksums.h5"


def _without_matplotlib(tmp_path) -> dict:
    """An environment where ``import matplotlib`` fails, as without the [plot] extra."""
    import os
    blocker = tmp_path / "blocker" / "matplotlib"
    blocker.mkdir(parents=True)
    (blocker / "__init__.py").write_text("raise ImportError('matplotlib is not installed')\n")
    path = os.pathsep.join(filter(None, [str(blocker.parent), os.environ.get("PYTHONPATH")]))
    return dict(os.environ, PYTHONPATH=path)


@pytest.mark.parametrize("command", ["plot", "report"])
def test_without_matplotlib_says_how_to_install_it(tmp_path, command):
    out = tmp_path / ("figs" if command == "plot" else "r.html")
    if command == "plot":
        out.mkdir()
    refused(run([command, MODEL, "-o", out], cwd=tmp_path, env=_without_matplotlib(tmp_path)),
            "pip install mpidl[plot]")
    assert not out.is_file() and (command == "report" or not any(out.iterdir()))


def test_plot_into_a_missing_folder_is_refused(tmp_path):
    refused(run(["plot", MODEL, "-o", tmp_path / "nope"], cwd=tmp_path), "nope", "does not exist")
    assert not (tmp_path / "nope").exists()


def test_plot_into_a_file_is_refused(tmp_path):
    target = tmp_path / "figs"
    target.write_text("a file, not a folder")
    before = fingerprint([target])
    refused(run(["plot", MODEL, "-o", target], cwd=tmp_path), "figs", "not a folder",
            untouched=before)


def test_report_into_a_missing_folder_is_refused(tmp_path):
    refused(run(["report", MODEL, "-o", tmp_path / "nope" / "r.html"], cwd=tmp_path),
            "r.html", "does not exist")


@pytest.mark.parametrize("command", ["plot", "report"])
def test_a_file_that_is_not_a_model_is_refused(tmp_path, command):
    fake = tmp_path / "fake.h5"
    fake.write_text("not HDF5")
    out = tmp_path if command == "plot" else tmp_path / "r.html"
    refused(run([command, fake, "-o", out], cwd=tmp_path), "fake.h5")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fake.h5"]
