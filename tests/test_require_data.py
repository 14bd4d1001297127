"""``MPIDL_REQUIRE_DATA=1`` (set by .ci/run): a real-data test whose data is missing fails the
run instead of passing by skipping.  Checked on a child pytest pointed at an empty folder."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CASES = ["tests/test_real_data.py::test_higgs_validation_auc",
         "tests/test_importer.py::test_real_file_shape[iris/iris.csv]"]

pytestmark = pytest.mark.mpi_skip


def _pytest(case: str, data_dir: Path, require: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, MPIDL_DATA_DIR=str(data_dir), MPIDL_REQUIRE_DATA=require)
    return subprocess.run([sys.executable, "-m", "pytest", case, "-q", "-p", "no:cacheprovider",
                           "-rfs"], cwd=REPO, env=env, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("case", CASES)
def test_missing_data_fails_when_required_and_skips_otherwise(tmp_path, case):
    absent = tmp_path / "no_such_data"
    required = _pytest(case, absent, "1")
    assert required.returncode == 1, required.stdout[-2000:]
    assert "1 failed" in required.stdout and "MPIDL_REQUIRE_DATA=1" in required.stdout
    assert str(absent) in required.stdout
    optional = _pytest(case, absent, "0")
    assert optional.returncode == 0, optional.stdout[-2000:]
    assert "1 skipped" in optional.stdout
