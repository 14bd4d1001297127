"""Adversarial cases: grid job files and grid command lines that cannot be used (refused before
any model is trained, naming the key)."""

from pathlib import Path

import pytest
from harness import refused, run

pytestmark = [pytest.mark.adversarial, pytest.mark.mpi_skip]

PROSTATE = Path(__file__).resolve().parents[2] / "data" / "prostate.csv"
FIXED = f"""\
training_frame = "{PROSTATE}"
response_column = "CAPSULE"
ignored_columns = ["ID"]
epochs = 1
"""


def _grid(tmp_path, tables: str, *args):
    """Run ``grid`` on FIXED plus ``tables``; the folder must hold no model afterwards."""
    job = tmp_path / "g.toml"
    job.write_text(FIXED + tables)
    out = tmp_path / "out"
    out.mkdir(exist_ok=True)
    proc = run(["grid", job, "-o", out, *args], cwd=tmp_path)
    assert not list(out.iterdir()), "a refused grid wrote files"
    return proc


def test_unknown_hyper_parameter(tmp_path):
    """A hyper-parameter that is no H2O parameter."""
    refused(_grid(tmp_path, "[hyper_parameters]\nhiden = [[4], [8]]\n"), "hiden")


def test_empty_value_list(tmp_path):
    """A hyper-parameter with an empty list of values."""
    refused(_grid(tmp_path, "[hyper_parameters]\nl1 = []\n"), "'l1'", "non-empty")


def test_hyper_parameter_also_fixed(tmp_path):
    """A hyper-parameter that the job also sets as a fixed parameter."""
    refused(_grid(tmp_path, "[hyper_parameters]\nepochs = [1, 2]\n"), "'epochs'", "fixed")


def test_no_hyper_parameters(tmp_path):
    """A grid job without a [hyper_parameters] table."""
    refused(_grid(tmp_path, ""), "hyper_parameters")


def test_unknown_search_criterion(tmp_path):
    """A [search_criteria] key H2O does not have."""
    refused(_grid(tmp_path, "[hyper_parameters]\nl1 = [0]\n[search_criteria]\nmax_model = 3\n"),
            "max_model")


def test_unknown_strategy(tmp_path):
    """A strategy that is neither Cartesian nor RandomDiscrete."""
    refused(_grid(tmp_path, "[hyper_parameters]\nl1 = [0]\n[search_criteria]\n"
                            "strategy = \"Random\"\n"), "strategy")


def test_cartesian_with_max_models(tmp_path):
    """max_models with a Cartesian grid (H2O's Cartesian criteria have no stopping keys)."""
    refused(_grid(tmp_path, "[hyper_parameters]\nl1 = [0]\n[search_criteria]\nmax_models = 2\n"),
            "max_models", "RandomDiscrete")


def test_negative_max_runtime(tmp_path):
    """A negative max_runtime_secs in [search_criteria]."""
    refused(_grid(tmp_path, "[hyper_parameters]\nl1 = [0]\n[search_criteria]\n"
                            "strategy = \"RandomDiscrete\"\nmax_runtime_secs = -1\n"),
            "max_runtime_secs")


def test_every_point_invalid(tmp_path):
    """Every grid point fails validation: nothing to search."""
    refused(_grid(tmp_path, "[hyper_parameters]\nl1 = [-1, -2]\n"), "'l1'", "every grid point")


def test_ranks_per_model_not_dividing(tmp_path):
    """--ranks-per-model that does not divide the job's ranks."""
    refused(_grid(tmp_path, "[hyper_parameters]\nl1 = [0]\n", "--ranks-per-model", "2"),
            "--ranks-per-model")


def test_index_out_of_range(tmp_path):
    """--index past the last grid point."""
    refused(_grid(tmp_path, "[hyper_parameters]\nl1 = [0, 1e-4]\n", "--index", "2"), "--index")


def test_missing_output_folder(tmp_path):
    """An output folder that does not exist (never created by mpidl)."""
    job = tmp_path / "g.toml"
    job.write_text(FIXED + "[hyper_parameters]\nl1 = [0]\n")
    refused(run(["grid", job, "-o", tmp_path / "nope"], cwd=tmp_path), "nope")


def test_random_grid_collected_without_seed(tmp_path):
    """--collect of a RandomDiscrete grid without a seed (another seed walks other points)."""
    refused(_grid(tmp_path, "[hyper_parameters]\nl1 = [0, 1e-4]\n[search_criteria]\n"
                            "strategy = \"RandomDiscrete\"\n", "--collect", tmp_path / "out"),
            "seed")


def test_model_id_as_hyper_parameter(tmp_path):
    """model_id in [hyper_parameters] (the grid names its models)."""
    refused(_grid(tmp_path, "[hyper_parameters]\nmodel_id = [\"a\", \"b\"]\n"), "model_id")


def test_index_with_collect(tmp_path):
    """--index and --collect together (one point, or only the table)."""
    refused(_grid(tmp_path, "[hyper_parameters]\nl1 = [0]\n", "--index", "0", "--collect",
                  tmp_path / "out"), "--collect", "--index")
