"""``predict`` on imperfect data and H2O's prediction column names (issue 18, points 5 and 8).

Names: H2O's ``makeScoringNames`` turns a level that Java's ``Integer.valueOf`` accepts into
``p`` + level and keeps any other level as it is.  Imperfect data: a predictor the data lacks
is scored as missing in every row, an unseen categorical level as missing; one warning line per
column with its row count, and the predictions equal those on the data with those values blank.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from cli_run import mpidl, prostate

from mpidl.predict_columns import scoring_names


@pytest.mark.parametrize("domain, names", [
    (["0", "1"], ["predict", "p0", "p1"]),
    (["-1", "+1"], ["predict", "p-1", "p+1"]),            # Integer.valueOf takes a sign
    (["NO", "YES"], ["predict", "NO", "YES"]),
    (["0.5", "1.5", "2"], ["predict", "0.5", "1.5", "p2"]),  # not an integer: kept
    (["3000000000", "1"], ["predict", "3000000000", "p1"]),  # beyond int32: kept
    (None, ["predict"]),
])
def test_scoring_names_follow_h2o(domain, names):
    assert scoring_names(domain) == names


def _ok(*args, cwd):
    proc = mpidl(*args, cwd=cwd)
    assert proc.returncode == 0, proc.stderr
    return proc


def _rows(path: Path) -> list[list[str]]:
    with open(path, newline="") as f:
        return list(csv.reader(f))


def _write(path: Path, rows) -> Path:
    with open(path, "w", newline="") as f:
        csv.writer(f).writerows(rows)
    return path


@pytest.fixture(scope="module")
def race_model(tmp_path_factory):
    """A CAPSULE model with RACE categorical (levels 0, 1, 2) and a text response (NO/YES)."""
    d = tmp_path_factory.mktemp("predict_columns")
    rows = _rows(prostate())
    cap = rows[0].index("CAPSULE")
    for r in rows[1:]:
        r[cap] = "YES" if r[cap] == "1" else "NO"
    src = _write(d / "prostate_text.csv", rows)
    _ok("import", src, "-o", d / "train.h5", "--categorical", "RACE", cwd=d)
    (d / "job.toml").write_text('training_frame = "train.h5"\nresponse_column = "CAPSULE"\n'
                                'ignored_columns = ["ID"]\nhidden = [5]\nepochs = 2\nseed = 3\n'
                                'reproducible = true\n')
    _ok("train", d / "job.toml", "-o", d / "m.h5", cwd=d)
    return d, rows


def test_text_levels_keep_their_names(race_model):
    d, rows = race_model
    _ok("predict", d / "m.h5", d / "prostate_text.csv", "-o", d / "p.csv", cwd=d)
    assert _rows(d / "p.csv")[0] == ["predict", "NO", "YES"]


def test_missing_column_and_unseen_level_warn_with_counts(race_model):
    d, rows = race_model
    header = rows[0]
    race, psa = header.index("RACE"), header.index("PSA")
    odd = [r[:] for r in rows]
    for r in odd[1:8]:
        r[race] = "7"           # 7 rows with a level not trained on
    for r in odd[8:10]:
        r[race] = "9"           # 2 more rows, another unseen level
    odd[12][header.index("VOL")] = "lots"   # a stray token: VOL stays numeric, this one missing
    odd = [[v for j, v in enumerate(r) if j != psa] for r in odd]
    data = _write(d / "odd.csv", odd)
    proc = _ok("predict", d / "m.h5", data, "-o", d / "odd_preds.csv", cwd=d)
    assert proc.stderr.splitlines() == [
        f"mpidl: warning: {data}: column 'VOL': 1 value(s) not a number ('lots') read as "
        "missing; the column is numeric (379 of 380 values are numbers)",
        f"mpidl: warning: {data}: column 'PSA' is missing: all 380 rows scored with it missing "
        "(the training mean)",
        f"mpidl: warning: {data}: column 'RACE' has 2 level(s) not trained on ('7', '9'): "
        "9 of 380 rows scored with it missing",
    ]
    # the reference: the same rows with those values blank (missing) give the same predictions
    blank = [r[:] for r in rows]
    for r in blank[1:10]:
        r[race] = ""
    for r in blank[1:]:
        r[psa] = ""
    blank[12][header.index("VOL")] = ""
    ref = _write(d / "blank.csv", blank)
    proc = _ok("predict", d / "m.h5", ref, "-o", d / "blank_preds.csv", cwd=d)
    assert proc.stderr == ""
    assert _rows(d / "odd_preds.csv") == _rows(d / "blank_preds.csv")
