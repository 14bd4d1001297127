"""Adversarial cases of compact shards and sparse input: a bad MPIDL_COMPACT_SHARD value and
sparse with elastic averaging, each one line naming the setting or parameter, exit 2."""

import os
from pathlib import Path

import pytest
from harness import fingerprint, refused, run

pytestmark = [pytest.mark.adversarial, pytest.mark.mpi_skip]

PROSTATE = Path(__file__).resolve().parents[2] / "data" / "prostate.csv"


def _job(tmp_path: Path, extra: str = "") -> Path:
    job = tmp_path / "job.toml"
    job.write_text(f'training_frame = "{PROSTATE}"\nresponse_column = "CAPSULE"\n'
                   f'ignored_columns = ["ID"]\nhidden = [4]\nepochs = 1\n{extra}')
    return job


@pytest.mark.parametrize("ranks", [None, 2])
def test_a_bad_compact_shard_setting_is_refused(tmp_path, ranks):
    model = tmp_path / "m.h5"
    model.write_bytes(b"an older model")
    before = fingerprint([model])
    env = {**os.environ, "MPIDL_COMPACT_SHARD": "yes"}
    refused(run(["train", _job(tmp_path), "-o", model], cwd=tmp_path, ranks=ranks, env=env),
            "MPIDL_COMPACT_SHARD", "'yes'", untouched=before)


def test_sparse_with_elastic_averaging_is_refused(tmp_path):
    job = _job(tmp_path, "sparse = true\nelastic_averaging = true\n")
    refused(run(["train", job, "-o", "m.h5"], cwd=tmp_path), "'sparse'", "elastic_averaging")
    assert not (tmp_path / "m.h5").exists()
