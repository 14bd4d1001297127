"""Adversarial cases of the autoencoder commands: an autoencoder job with a response column,
features on a layer the model lacks, anomaly on a supervised model, a pretrained autoencoder
with other columns or hidden layers, or that is not an autoencoder: one line naming the
culprit, exit 2, the output untouched."""

import numpy as np
import pytest
from harness import fingerprint, refused, run

pytestmark = [pytest.mark.adversarial, pytest.mark.mpi_skip]


def _data(folder, name="f.csv", extra=False):
    """A small frame: numerics a, c (and d with ``extra``), a categorical b, a 0/1 response y."""
    rng = np.random.default_rng(5)
    head = "a,b,c" + (",d" if extra else "") + ",y"
    rows = [f"{rng.normal():.4f},{'xyz'[i % 3]},{rng.normal():.4f}" +
            (f",{rng.normal():.4f}" if extra else "") + f",{i % 2}" for i in range(60)]
    (folder / name).write_text(head + "\n" + "\n".join(rows) + "\n")
    return folder / name


def _train(folder, name, lines):
    job = folder / f"{name}.toml"
    job.write_text("\n".join(['hidden = [3]', 'epochs = 1', 'seed = 1', *lines]) + "\n")
    proc = run(["train", job, "-o", folder / f"{name}.h5"], cwd=folder)
    assert proc.returncode == 0, proc.stderr
    return folder / f"{name}.h5"


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """(folder, autoencoder on a, b, c; supervised model of y)."""
    folder = tmp_path_factory.mktemp("ae13")
    _data(folder)
    ae = _train(folder, "ae", ['training_frame = "f.csv"', 'autoencoder = true',
                               'ignored_columns = ["y"]'])
    sup = _train(folder, "sup", ['training_frame = "f.csv"', 'response_column = "y"'])
    return folder, ae, sup


def test_autoencoder_job_with_a_response_column(tmp_path):
    _data(tmp_path)
    job = tmp_path / "job.toml"
    job.write_text('training_frame = "f.csv"\nautoencoder = true\nresponse_column = "y"\n')
    refused(run(["train", job], cwd=tmp_path), "response_column", "'y'", "autoencoder")


def test_autoencoder_job_with_an_offset_column(tmp_path):
    _data(tmp_path)
    job = tmp_path / "job.toml"
    job.write_text('training_frame = "f.csv"\nautoencoder = true\noffset_column = "a"\n')
    refused(run(["train", job], cwd=tmp_path), "offset_column", "autoencoder")


@pytest.mark.parametrize("layer", ["0", "2", "-1"])
def test_features_layer_out_of_range(models, layer):
    folder, ae, _ = models
    out = folder / "feat.csv"
    out.write_text("older features\n")
    before = fingerprint([out])
    refused(run(["features", ae, "f.csv", "--layer", layer, "-o", out], cwd=folder),
            f"--layer {layer}", "1 hidden layer", untouched=before)


def test_anomaly_on_a_supervised_model_under_mpirun(models):
    folder, _, sup = models
    refused(run(["anomaly", sup, "f.csv", "-o", folder / "an.csv"], cwd=folder, ranks=2),
            "sup.h5", "not an autoencoder")


def test_pretrained_autoencoder_that_is_supervised(models):
    folder, _, sup = models
    job = folder / "p1.toml"
    job.write_text(f'training_frame = "f.csv"\nresponse_column = "y"\nhidden = [3]\n'
                   f'pretrained_autoencoder = "{sup}"\n')
    refused(run(["train", job, "-o", folder / "p1.h5"], cwd=folder), "pretrained_autoencoder",
            "not an autoencoder")


def test_pretrained_autoencoder_with_other_hidden_layers(models):
    folder, ae, _ = models
    job = folder / "p2.toml"
    job.write_text(f'training_frame = "f.csv"\nresponse_column = "y"\nhidden = [4]\n'
                   f'pretrained_autoencoder = "{ae}"\n')
    refused(run(["train", job, "-o", folder / "p2.h5"], cwd=folder), "pretrained_autoencoder",
            "hidden layers")


def test_pretrained_autoencoder_with_other_columns_under_mpirun(models):
    folder, ae, _ = models
    _data(folder, "g.csv", extra=True)
    job = folder / "p3.toml"
    job.write_text(f'training_frame = "g.csv"\nresponse_column = "y"\nhidden = [3]\n'
                   f'pretrained_autoencoder = "{ae}"\n')
    refused(run(["train", job, "-o", folder / "p3.h5"], cwd=folder, ranks=2),
            "pretrained_autoencoder", "inputs differ", "'d'")
