"""Gedeon variable importances (spec section 12) against a plain-loop reference written from
H2O's ``computeVariableImportances``, H2O's table and names, the model file and ``inspect``."""

from __future__ import annotations

import json

import numpy as np
import pytest
from cli_run import REPO, mpidl, prostate

from mpidl.checkpoint import read_model
from mpidl.varimp import gedeon, h2o_weight_rows, importance_table


def _reference_gedeon(w1: np.ndarray, w2: np.ndarray) -> np.ndarray:
    """H2O's loops, one float32 operation at a time: w1[j, i] (hidden x input), w2[k, j]."""
    f = np.float32
    n_hidden, n_in = w1.shape
    n_next = w2.shape[0]
    sum_wj = [f(0)] * n_hidden
    sum_wk = [f(0)] * n_next
    for j in range(n_hidden):
        for i in range(n_in):
            sum_wj[j] = f(sum_wj[j] + abs(w1[j, i]))
    for k in range(n_next):
        for j in range(n_hidden):
            sum_wk[k] = f(sum_wk[k] + abs(w2[k, j]))
    q = [[f(0)] * n_next for _ in range(n_in)]
    for i in range(n_in):
        for k in range(n_next):
            for j in range(n_hidden):
                q[i][k] = f(q[i][k] + f(f(abs(w1[j, i]) / sum_wj[j]) * abs(w2[k, j])) / sum_wk[k])
    for k in range(n_next):
        total = f(0)
        for i in range(n_in):
            total = f(total + q[i][k])
        for i in range(n_in):
            q[i][k] = f(q[i][k] / total)
    vi = [f(sum(q[i], f(0))) for i in range(n_in)]
    top = max(vi)
    return np.array([v / top for v in vi], dtype=np.float32)


def test_gedeon_matches_h2o_loops_on_a_small_net():
    rng = np.random.default_rng(3)
    w1 = rng.normal(size=(4, 6)).astype(np.float32)     # 6 inputs -> 4 hidden
    w2 = rng.normal(size=(3, 4)).astype(np.float32)     # 4 hidden -> 3 outputs
    np.testing.assert_allclose(gedeon(w1, w2), _reference_gedeon(w1, w2), rtol=2e-6)


def test_gedeon_by_hand_on_a_two_input_net():
    # inputs a, b; one hidden unit with |w| 3 and 1; one output: Q = 3/4, 1/4 -> VI 1, 1/3
    vi = gedeon(np.array([[3.0, -1.0]], np.float32), np.array([[-2.0]], np.float32))
    np.testing.assert_allclose(vi, [1.0, 1.0 / 3.0], rtol=1e-6)


def test_gedeon_without_hidden_layer_sums_absolute_weights():
    vi = gedeon(np.array([[1.0, -4.0], [1.0, 0.0]], np.float32), None)
    np.testing.assert_allclose(vi, [2.0 / 4.0, 1.0], rtol=1e-6)


def test_maxout_rows_are_read_as_h2o_reads_its_interleaved_storage():
    # spec: H2O's flat index of (row r, col c, channel k) is 2*(r*cols + c) + k, and it reads
    # row j, column i of the first units rows at flat index j*cols + i
    n_in, n_out = 3, 2
    rng = np.random.default_rng(0)
    w = rng.normal(size=(n_in, 2 * n_out)).astype(np.float32)   # mpidl: column 2r + k
    flat = np.empty(2 * n_out * n_in, np.float32)
    for r in range(n_out):
        for c in range(n_in):
            for k in range(2):
                flat[2 * (r * n_in + c) + k] = w[c, 2 * r + k]
    expected = np.array([[flat[j * n_in + i] for i in range(n_in)] for j in range(n_out)])
    np.testing.assert_array_equal(h2o_weight_rows(w, 2, n_out), expected)
    np.testing.assert_array_equal(h2o_weight_rows(w[:, :n_out], 1, n_out), w[:, :n_out].T)


def test_table_is_sorted_with_scaled_and_percentage():
    rows = importance_table(["a", "b", "c"], [0.5, 1.0, 0.5])
    assert [r["variable"] for r in rows] == ["b", "a", "c"]
    assert rows[1] == {"variable": "a", "relative_importance": 0.5, "scaled_importance": 0.5,
                       "percentage": 0.25}


def _cat_csv(path, na_in_color: bool):
    rng = np.random.default_rng(5)
    lines = ["color,size,x,y"]
    for r in range(120):
        color = ["red", "green", "blue"][r % 3]
        if na_in_color and r % 10 == 0:
            color = ""
        size = ["S", "L"][r % 2]
        x = rng.normal()
        lines.append(f"{color},{size},{x:.4f},{'yes' if x + (r % 3) > 1 else 'no'}")
    path.write_text("\n".join(lines) + "\n")


def _train(tmp_path, csv, extra="", name="m", response="y"):
    job = tmp_path / f"{name}.toml"
    job.write_text(f'training_frame = "{csv}"\nresponse_column = "{response}"\nhidden = [5]\n'
                   f"epochs = 2\nseed = 1\nreproducible = true\n{extra}")
    out = tmp_path / f"{name}.h5"
    proc = mpidl("train", job, "-o", out, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "not computed" not in proc.stdout + proc.stderr
    return out


def test_model_file_keeps_h2o_importances_with_h2o_names(tmp_path):
    csv = tmp_path / "d.csv"
    _cat_csv(csv, na_in_color=True)
    model = read_model(str(_train(tmp_path, csv)))
    lay = model.layout
    w1 = lay.weights(model.buf, 0).astype(np.float32)     # H2O orientation: hidden x input
    w2 = lay.weights(model.buf, 1).astype(np.float32)
    expected = _reference_gedeon(w1, w2)
    # size (2 levels): its NA slot was never hit in training -> 0; color's was
    names = model.dinfo.coef_names()
    assert names == ["color.blue", "color.green", "color.red", "color.missing(NA)", "size.L",
                     "size.S", "size.missing(NA)", "x"]    # use_all_factor_levels (H2O's default)
    expected[names.index("size.missing(NA)")] = 0.0
    np.testing.assert_allclose(model.variable_importances, expected, rtol=2e-6)
    assert model.variable_importances[names.index("color.missing(NA)")] > 0


def test_inspect_shows_the_table_and_json(tmp_path):
    csv = tmp_path / "d.csv"
    _cat_csv(csv, na_in_color=False)
    out = _train(tmp_path, csv)
    text = mpidl("inspect", out, cwd=tmp_path).stdout
    assert "Variable importances:" in text
    assert "relative_importance  scaled_importance  percentage" in text
    rows = json.loads(mpidl("inspect", out, "--json", cwd=tmp_path).stdout)["variable_importances"]
    assert {r["variable"] for r in rows} == {"color.blue", "color.green", "color.red",
                                             "color.missing(NA)", "size.L", "size.S",
                                             "size.missing(NA)", "x"}
    assert rows[0]["scaled_importance"] == 1.0
    assert sum(r["percentage"] for r in rows) == pytest.approx(1.0)
    assert rows[-1]["relative_importance"] == 0.0        # an NA slot no row hit


def test_variable_importances_false_keeps_none(tmp_path):
    out = _train(tmp_path, prostate(), 'ignored_columns = ["ID"]\nvariable_importances = false\n',
                 name="off", response="CAPSULE")
    assert read_model(str(out)).variable_importances is None


def test_old_model_file_without_importances_still_reads():
    model = read_model(str(REPO / "tests" / "adversarial" / "data" / "model_before_checksums.h5"))
    assert model.variable_importances is None


# H2O 3.46.0.12 on prostate.csv with RACE, DPROS, DCAPS, GLEASON and CAPSULE as factors, ID
# ignored: the column names of its exported first weight layer (``model.weights(0)``, the order
# of its importance slots) and its input standardization (``output.normsub``/``normmul``)
H2O_PROSTATE_SLOTS = [
    "GLEASON.0", "GLEASON.4", "GLEASON.5", "GLEASON.6", "GLEASON.7", "GLEASON.8", "GLEASON.9",
    "GLEASON.missing(NA)", "DPROS.1", "DPROS.2", "DPROS.3", "DPROS.4", "DPROS.missing(NA)",
    "RACE.0", "RACE.1", "RACE.2", "RACE.missing(NA)", "DCAPS.1", "DCAPS.2", "DCAPS.missing(NA)",
    "AGE", "PSA", "VOL"]
H2O_PROSTATE_NORMSUB = [66.03947368421049, 15.408631578947375, 15.812921052631573]
H2O_PROSTATE_NORMMUL = [0.15320807124060337, 0.05000606906518049, 0.05450298195536089]


def test_prostate_slots_and_standardization_are_h2o_s(tmp_path):
    """Names, order and standardization of the importance slots as H2O's (one-hot blocks
    largest domain first, NA level last in each, numerics last); with use_all_factor_levels
    false, each block loses its first level (H2O's rule: 110 slots become 102 on the adult
    sample of benchmarks/varimp_vs_h2o.py)."""
    h5 = tmp_path / "prostate.h5"
    proc = mpidl("import", prostate(), "-o", h5, "--categorical", "RACE", "DPROS", "DCAPS",
                 "GLEASON", "CAPSULE", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    for full in (True, False):
        extra = f'ignored_columns = ["ID"]\nuse_all_factor_levels = {str(full).lower()}\n'
        dinfo = read_model(str(_train(tmp_path, h5, extra, name=f"p{full}",
                                      response="CAPSULE"))).dinfo
        first_levels = {"GLEASON.0", "DPROS.1", "RACE.0", "DCAPS.1"}
        expected = [n for n in H2O_PROSTATE_SLOTS if full or n not in first_levels]
        assert dinfo.coef_names() == expected
        np.testing.assert_allclose(dinfo.num_sub, H2O_PROSTATE_NORMSUB, rtol=1e-12)
        np.testing.assert_allclose(dinfo.num_mul, H2O_PROSTATE_NORMMUL, rtol=1e-12)
