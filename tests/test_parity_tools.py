"""benchmarks/parity.py and parity_unseen.py helpers (issue 15's evidence): the split folder
follows the dataset's spec, a setting H2O cannot train keeps mpidl's figures, and the rows
whose categorical levels were all seen in training, each against values written by hand."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import parity  # noqa: E402  (benchmarks/ is no package)
import parity_unseen  # noqa: E402


def test_a_changed_drop_list_makes_a_new_split_folder():
    spec = parity.DATASETS["airlines_allyears2k"]
    assert "IsDepDelayed_REC" in spec.drop
    here = parity.split_folder("airlines_allyears2k", spec)
    assert here == parity.split_folder("airlines_allyears2k", replace(spec))
    assert here != parity.split_folder("airlines_allyears2k", replace(spec, drop=[]))
    assert here.name.startswith("airlines_allyears2k-")


def test_h2os_failure_is_a_row_beside_mpidls_figures():
    ours = [{"error": 0.25, "AUC": 0.5}, {"error": 0.35, "AUC": 0.7}]
    rows = parity.rows_of("d", "labelencoder", "NumberFormatException: x", ours)
    # mean 0.30 and 0.60; se = stdev / sqrt(2) = 0.0707.. / 1.414.. = 0.05 and 0.1
    assert rows == [["d", "labelencoder", "error", "fails: NumberFormatException: x",
                     "0.3000 ± 0.0500", ""],
                    ["d", "labelencoder", "AUC", "fails: NumberFormatException: x",
                     "0.6000 ± 0.1000", ""]]


def test_seen_rows_are_those_whose_every_text_level_is_in_training(tmp_path):
    train, test = tmp_path / "train.csv", tmp_path / "test.csv"
    train.write_text("g,h,x,y\na,p,1,YES\nb,q,2,NO\nb,,3,NO\n")
    # rows: all seen; g unseen; h unseen; h missing (seen); x numeric never checked; y ignored
    test.write_text("g,h,x,y\na,q,1,NO\nc,p,1,NO\nb,r,1,YES\na,,1,NO\nb,p,99,MAYBE\n")
    got = parity_unseen.seen_rows(train, test, "y")
    np.testing.assert_array_equal(got, [True, False, False, True, True])
