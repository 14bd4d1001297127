"""``benchmarks/scaling.py --plot PNG`` (issue 14 point 4): the scaling plot of measured
speeds is written, decodes as a PNG and has a sane size (the benchmark itself is too long
for CI: its figure is drawn here from made-up rounds)."""

from __future__ import annotations

import sys
from pathlib import Path

from matplotlib.image import imread  # the [test] extra brings matplotlib (and [plot])

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import scaling  # noqa: E402  (benchmarks/ is no package)


def test_scaling_plot_is_a_png_of_sane_size(tmp_path):
    names = ("1x1", "2x1", "1x2", "4x1")
    configs = {name: scaling.parse_config(name) for name in names}
    speeds = {"1x1": [1000.0, 1040.0, 980.0], "2x1": [1900.0, 1850.0, 1950.0],
              "1x2": [1800.0, 1790.0, 1830.0], "4x1": [3100.0, 3300.0, 2900.0]}
    effs = {name: [s / (configs[name].ranks * configs[name].threads * 1000.0)
                   for s in speeds[name]] for name in names}
    path = tmp_path / "scaling.png"
    scaling.scaling_plot(str(path), configs, speeds, effs)
    img = imread(path)
    assert 300 <= img.shape[0] <= 2000 and 300 <= img.shape[1] <= 2000, img.shape
    assert img[..., :3].std() > 0.01, "a blank image"
