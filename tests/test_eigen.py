"""``categorical_encoding = "Eigen"`` (issue 15, point 1): each categorical column becomes one
numeric column ``col.Eigen``, the leading eigenvector of the training levels' one-hot
covariance diag(p) - p p^T at the row's level (missing and unseen levels missing, then
imputed with the column mean as any numeric).  Checked against numpy's ``eigh`` on small
frames, the tie rules written out by hand, and `mpidl predict` against a forward pass written
here over the frame encoded by hand.
"""

from __future__ import annotations

import csv

import h5py
import numpy as np
import pytest
from cli_run import mpidl

from mpidl.checkpoint import read_model
from mpidl.comm import SerialComm
from mpidl.data.eigen import leading_eigenvector
from mpidl.data.encodings import encode_frame, plan_encoding
from mpidl.data.hdf5 import ColumnInfo, TableInfo

LEVELS = ("a", "b", "c", "d", "e", "f")
# training codes: a x1, b x5, c x3, d x3, e x2, f never, two missing
TRAIN = np.array([1, 1, 2, 3, 1, 2, 3, 4, 1, 2, 3, 1, 4, 0, -1, -1], dtype=np.int32)
NEW_DOMAIN = ("f", "zz", "b", "a")                     # its own order and an unseen level
NEW = np.array([0, 1, 2, 3, -1], dtype=np.int32)       # f, zz, b, a, missing


def _numpy_vector(counts) -> np.ndarray:
    """The unit leading eigenvector of diag(p) - p p^T by numpy's eigh, its most frequent
    level's component positive (for counts with one most frequent level)."""
    p = np.asarray(counts, dtype=float) / np.sum(counts)
    values, vectors = np.linalg.eigh(np.diag(p) - np.outer(p, p))
    v = vectors[:, np.argmax(values)]
    return v * np.sign(v[np.argmax(p)])


def _info(domain) -> TableInfo:
    return TableInfo("t.csv", 0, (ColumnInfo("g", "categorical", tuple(domain)),
                                  ColumnInfo("x", "numeric")))


def test_the_column_is_the_leading_eigenvector_at_the_level():
    info = _info(LEVELS)
    plan = plan_encoding("Eigen", 10, info, {"g": TRAIN}, info.columns, SerialComm())
    want = _numpy_vector([1, 5, 3, 3, 2, 0])
    np.testing.assert_allclose(plan[0]["vector"], want, atol=1e-12)
    train = {"g": TRAIN, "x": np.zeros(TRAIN.size)}
    got = encode_frame(plan, train, info, "t.csv")
    assert got.names == ("g.Eigen", "x") and got.column("g.Eigen").kind == "numeric"
    np.testing.assert_allclose(train["g.Eigen"],
                               np.where(TRAIN < 0, np.nan, want[np.maximum(TRAIN, 0)]))
    # new data: levels by name; the unseen "zz" and the missing value stay missing
    new = {"g": NEW, "x": np.zeros(NEW.size)}
    encode_frame(plan, new, _info(NEW_DOMAIN), "new.csv")
    np.testing.assert_allclose(new["g.Eigen"], [want[5], np.nan, want[1], want[0], np.nan])
    assert want[5] == 0 and want[1] > 0     # f never seen: 0; b most frequent: positive


@pytest.mark.parametrize("seed", range(20))
def test_random_counts_match_numpys_eigh(seed):
    rng = np.random.default_rng(seed)
    counts = rng.integers(0, [3, 50, 10 ** 6][seed % 3], size=rng.integers(2, 60))
    counts[rng.integers(counts.size)] = counts.max() + 1       # one most frequent level
    np.testing.assert_allclose(leading_eigenvector(counts), _numpy_vector(counts), atol=1e-10)


def test_ties_and_degenerate_columns_follow_the_stated_rules():
    """Top tied (m levels): e_a - 1_tied / m, a the first tied level; one level seen: its
    indicator; none seen: zeros.  Each is an eigenvector of the largest eigenvalue."""
    got = leading_eigenvector([2, 7, 1, 7, 7])
    want = np.array([0, 2 / 3, 0, -1 / 3, -1 / 3]) / np.sqrt(2 / 3)
    np.testing.assert_allclose(got, want, atol=1e-15)
    p = np.array([2, 7, 1, 7, 7]) / 24
    cov = np.diag(p) - np.outer(p, p)
    np.testing.assert_allclose(cov @ got, np.linalg.eigvalsh(cov)[-1] * got, atol=1e-15)
    np.testing.assert_array_equal(leading_eigenvector([0, 4, 0]), [0, 1, 0])
    np.testing.assert_array_equal(leading_eigenvector([0, 0]), [0, 0])


def test_a_frame_without_categoricals_is_left_as_it_is():
    """H2O's CategoricalEigenEncoder copies the numeric columns: nothing to encode."""
    info = TableInfo("t.csv", 0, (ColumnInfo("x", "numeric"), ColumnInfo("z", "numeric")))
    cols = {"x": np.arange(3.0), "z": np.ones(3)}
    plan = plan_encoding("Eigen", 10, info, cols, info.columns, SerialComm())
    assert plan == [] and encode_frame(plan, cols, info, "t.csv") is info
    assert list(cols) == ["x", "z"]


def _write(path, rows, header=("g", "x", "y")) -> None:
    with open(path, "w", newline="") as f:
        csv.writer(f).writerows([list(header)] + rows)


def _frames(tmp_path):
    """A training CSV (g: p 90, q 60, r 30, s 12 rows, 8 missing) and new data with every
    level, an unseen one and a missing value."""
    rng = np.random.default_rng(3)
    levels = np.repeat(["p", "q", "r", "s", ""], [90, 60, 30, 12, 8])
    rng.shuffle(levels)
    x = rng.normal(size=levels.size)
    y = np.where(np.isin(levels, ["q", "s"]) ^ (x > 0.3), "yes", "no")
    _write(tmp_path / "train.csv", [[g, f"{v:.6f}", t] for g, v, t in zip(levels, x, y)])
    new = [["s", "0.5"], ["zz", "-1.0"], ["", "0.25"], ["p", "2.0"], ["q", "-0.3"], ["r", "0"]]
    _write(tmp_path / "new.csv", [r + ["no"] for r in new])
    return levels, x, new


def test_predict_equals_a_forward_pass_over_the_frame_encoded_by_hand(tmp_path):
    levels, x, new = _frames(tmp_path)
    (tmp_path / "job.toml").write_text(
        'training_frame = "train.csv"\nresponse_column = "y"\ncategorical_encoding = "Eigen"\n'
        'activation = "Tanh"\nhidden = [4]\nepochs = 2\nseed = 5\nreproducible = true\n'
        "export_weights_and_biases = true\nquiet_mode = true\n")
    r = mpidl("train", "job.toml", "-o", "m.h5", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert read_model(tmp_path / "m.h5").dinfo.num_names == ["g.Eigen", "x"]
    r = mpidl("predict", "m.h5", "new.csv", "-o", "p.csv", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    # by hand: v from the training counts, g.Eigen standardized by its training mean and
    # sample sd (missing rows left out; missing / unseen -> the mean), x likewise
    v = dict(zip("pqrs", _numpy_vector([90, 60, 30, 12])))
    train_e = np.array([v.get(g, np.nan) for g in levels])
    new_e = np.array([v.get(g, np.nanmean(train_e)) for g, _ in new])
    new_x = np.array([float(t) for _, t in new])
    inputs = np.column_stack([(new_e - np.nanmean(train_e)) / np.nanstd(train_e, ddof=1),
                              (new_x - x.mean()) / x.std(ddof=1)])
    with h5py.File(tmp_path / "m.h5", "r") as f:
        w = [f["weights_and_biases"][f"{t}_{i}"][...] for i in range(2) for t in ("weights",
                                                                                  "biases")]
    z = np.tanh(inputs @ w[0].T + w[1].ravel()) @ w[2].T + w[3].ravel()
    probs = np.exp(z - z.max(axis=1, keepdims=True))
    probs /= probs.sum(axis=1, keepdims=True)
    with open(tmp_path / "p.csv") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["predict", "no", "yes"]
    np.testing.assert_allclose([[float(c) for c in row[1:]] for row in rows[1:]], probs,
                               atol=1e-5)
    assert "'g' has 1 level(s) not trained on ('zz')" in r.stderr


def test_on_a_frame_without_categoricals_the_model_is_autos(tmp_path):
    """As H2O 3.46 (Eigen and AUTO with reproducible = true on a numeric frame predict the
    same): nothing is encoded, so the same seed trains the same network."""
    rng = np.random.default_rng(4)
    x = rng.normal(size=(120, 2))
    _write(tmp_path / "num.csv", [[f"{a:.5f}", f"{b:.5f}", "ab"[int(a > b)]] for a, b in x],
           header=("a", "b", "y"))
    preds = []
    for enc in ("AUTO", "Eigen"):
        (tmp_path / "job.toml").write_text(
            'training_frame = "num.csv"\nresponse_column = "y"\nhidden = [3]\nepochs = 2\n'
            f'seed = 2\nreproducible = true\nquiet_mode = true\ncategorical_encoding = "{enc}"\n')
        assert mpidl("train", "job.toml", "-o", f"{enc}.h5", cwd=tmp_path).returncode == 0
        r = mpidl("predict", f"{enc}.h5", "num.csv", "-o", f"{enc}.csv", cwd=tmp_path)
        assert r.returncode == 0, r.stderr
        preds.append((tmp_path / f"{enc}.csv").read_text())
    assert preds[0] == preds[1] and len(preds[0].splitlines()) == 121
