"""benchmarks/time_to_accuracy.py (issue 17 point 3): its probe speed leaves the start-up out,
its table reads the time to a target off the smoothed mean curve (never one dip) and says when
the evaluations bound it, and PyTorch gets H2O's inputs and the training set's class codes."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import parity  # noqa: E402  (benchmarks/ is no package)
import time_to_accuracy as tta  # noqa: E402


def test_probe_speed_leaves_the_first_iteration_out():
    # 1,000 samples per iteration; the first took 1 s (start-up), the others 0.1 s each
    points = [(1000, 1.0), (2000, 1.1), (3000, 1.2), (4000, 1.3)]
    assert np.isclose(tta.steady_speed(points), 10_000)


def test_cut_keeps_the_evaluations_within_the_budget():
    run = [(0.1, 4.0, 0.3), (0.2, 8.3, 0.2), (0.3, 8.5, 0.1)]
    assert tta.cut(run, 8.0) == run[:2]          # 5 % slack for the last one's overshoot


def test_hit_cells():
    a = [(1, 1.0, 0.30), (2, 2.0, 0.20), (3, 3.0, 0.10), (4, 4.0, 0.05), (5, 5.0, 0.05)]
    b = [(1, 1.2, 0.30), (2, 2.2, 0.40), (3, 3.2, 0.30), (4, 4.2, 0.05), (5, 5.2, 0.05)]
    curve = tta.tp.mean_curve([a, b])
    # running means of 3: a .20 .117 .067, b .333 .25 .133, the mean curve .267 .183 .10
    assert tta.hit_cell([a, b], curve, 0.27) == "≤ 3.1 (seeds 3.0-4.2)"
    assert tta.hit_cell([a, b], curve, 0.19) == "4.1 (seeds 4.0-5.2)"
    assert tta.hit_cell([a, b], curve, 0.12) == "5.1 (1 of 2 seeds alone: 4.0-4.0)"
    assert tta.hit_cell([a, b], curve, 0.05) == "not reached (best 10.00 %)"
    dip = [(1, 1.0, 0.3), (2, 2.0, 0.3), (3, 3.0, 0.01), (4, 4.0, 0.3)]
    assert tta.hit_cell([dip], tta.tp.mean_curve([dip]), 0.1).startswith("not reached")


def test_torch_inputs_standardized_and_classes_coded_by_training_levels(tmp_path):
    # HIGGS: the training file writes the response 1.00E+00, the test file 1
    (tmp_path / "train.csv").write_text("y,a,k\n1.00E+00,1,5\n0.00E+00,3,5\n1.00E+00,5,5\n")
    (tmp_path / "test.csv").write_text("y,a,k\n1,3,5\n0,7,5\n2,1,5\n")
    spec = parity.Spec("unused", "y", "binomial")
    d = tta.Data("t", spec, tmp_path / "train.csv", tmp_path / "test.csv", 3, (0.1,))
    arr = tta.torch_arrays(d)
    assert arr["train_x"].shape == (3, 1)                 # the constant column k dropped
    sd = np.std([1, 3, 5])
    assert np.allclose(arr["train_x"][:, 0], (np.array([1, 3, 5]) - 3) / sd)
    assert np.allclose(arr["test_x"][:, 0], (np.array([3, 7, 1]) - 3) / sd)
    assert arr["train_y"].tolist() == [1, 0, 1]
    assert arr["test_y"].tolist() == [1, 0, -1]           # level 2 unseen in training
    assert all(arr[k].flags.writeable for k in arr)
    assert pd.api.types.is_float_dtype(arr["train_x"].dtype)
