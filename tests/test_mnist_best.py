"""benchmarks/mnist_best.py (issue 17 point 5): its figures come from the smoothed curve, never
one evaluation, and read off the minute the smoothed curve first reaches a target."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import mnist_best  # noqa: E402  (benchmarks/ is no package)


def test_smoothed_is_the_centered_running_mean():
    err = np.array([5.0, 1.0, 3.0, 3.0, 8.0])
    np.testing.assert_allclose(mnist_best.smoothed(err, 3), [3.0, 3.0, 7 / 3, 14 / 3, 5.5])


def test_one_dip_does_not_reach_a_target():
    minutes = np.arange(1.0, 8.0)
    err = np.array([0.030, 0.025, 0.008, 0.025, 0.020, 0.012, 0.009])   # one dip at minute 3
    smooth = mnist_best.smoothed(err, 3)
    assert mnist_best.first_at(minutes, smooth, 0.010).startswith("not reached")
    assert mnist_best.first_at(minutes, smooth, 0.0135) == "7.0"     # (0.012 + 0.009) / 2
    assert mnist_best.at_minute(minutes, smooth, minutes, 6) == "1.37 % (6 ep)"
    assert mnist_best.at_minute(minutes, smooth, minutes, 20) == "-"
