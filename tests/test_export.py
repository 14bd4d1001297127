"""``mpidl export`` (issue 14, points 1-3): the standalone scorer, the ONNX graph, weight tables.

Every model kind of ``export_models.KINDS``: the scorer, run by a Python that has numpy and
nothing of mpidl, writes the predictions ``mpidl predict`` writes (probabilities and values
within 1e-5; a label may differ only where the probability is within 1e-5 of the max-F1
threshold or of the runner-up class, a tie that float rounding decides); ONNX outputs under
onnxruntime equal them within 1e-5; the weight tables, read back as CSV and pushed through a
hand-written forward pass in H2O's orientation, give the same probabilities.
"""

from __future__ import annotations

import csv
import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest
from cli_run import mpidl
from export_models import KINDS, numpy_only, train_kind

TOL = 1e-5


@pytest.fixture(scope="module")
def models(tmp_path_factory) -> dict:
    """{kind: (folder, model, test CSV, `mpidl predict` CSV)}."""
    out = {}
    for kind in KINDS:
        d = tmp_path_factory.mktemp(kind)
        model, data = train_kind(kind, d)
        pred = d / "predict.csv"
        proc = mpidl("predict", model, data, "-o", pred, cwd=d)
        assert proc.returncode == 0, proc.stderr
        out[kind] = (d, model, data, pred)
    return out


def _table(path: Path) -> tuple[list[str], list[list[str]]]:
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    return rows[0], rows[1:]


def _export(*args, cwd) -> None:
    proc = mpidl("export", *args, cwd=cwd)
    assert proc.returncode == 0, proc.stderr


def _load_scorer(path: Path):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _assert_same_predictions(want: Path, got_header, got_rows, plan: dict) -> None:
    """``got`` equals `mpidl predict`'s ``want`` (see the module docstring for labels)."""
    header, rows = _table(want)
    assert got_header == header and len(got_rows) == len(rows)
    w = np.array([[float(v) for v in r[1:]] for r in rows]) if len(header) > 1 else None
    g = np.array([[float(v) for v in r[1:]] for r in got_rows]) if len(header) > 1 else None
    if w is None:   # regression: the value itself
        np.testing.assert_allclose([float(r[0]) for r in got_rows],
                                   [float(r[0]) for r in rows], rtol=0, atol=TOL)
        return
    np.testing.assert_allclose(g, w, rtol=0, atol=TOL)
    differ = [i for i, (a, b) in enumerate(zip(rows, got_rows)) if a[0] != b[0]]
    thr = plan["output"]["threshold"]
    for i in differ:
        if thr is not None:
            assert abs(w[i, 1] - thr) <= TOL, (i, rows[i], got_rows[i], thr)
        else:
            top2 = np.sort(w[i])[-2:]
            assert top2[1] - top2[0] <= TOL, (i, rows[i], got_rows[i])


@pytest.mark.parametrize("kind", KINDS)
def test_scorer_with_numpy_alone_writes_what_predict_writes(models, kind):
    d, model, data, pred = models[kind]
    scorer = d / "scorer.py"
    _export(model, "-o", scorer, cwd=d)
    out = d / "scorer_predictions.csv"
    proc = numpy_only(scorer, data, "-o", out, cwd=d)
    assert proc.returncode == 0, proc.stderr
    plan = _load_scorer(scorer).PLAN
    _assert_same_predictions(pred, *_table(out), plan)


@pytest.mark.parametrize("kind", ["categorical", "multinomial"])
def test_scorer_predict_takes_dicts_and_arrays(models, kind):
    """``predict(rows)`` on a list of dicts (a key left out = missing), on a 2-D array named
    by ``columns``, and block by block, gives `mpidl predict`'s probabilities."""
    d, model, data, pred = models[kind]
    scorer = d / "scorer_api.py"
    _export(model, "-o", scorer, cwd=d)
    s = _load_scorer(scorer)
    header, rows = _table(data)
    header, rows = [h.strip() for h in header], [r for r in rows if r]
    dicts = [{k: v for k, v in zip(header, r) if v != ""} for r in rows]
    from_dicts = s.predict(dicts)
    from_array = s.predict(np.array(rows, dtype=object), columns=header)
    s.BLOCK_ROWS = 7                          # many blocks, the last one short
    in_blocks = s.predict(dicts)
    _, want = _table(pred)
    for got in (from_dicts, from_array, in_blocks):
        assert list(got) == s.COLUMNS
        probs = np.column_stack([got[c] for c in s.COLUMNS[1:]])
        np.testing.assert_allclose(probs, [[float(v) for v in r[1:]] for r in want], atol=TOL)


def test_scorer_preprocessing_is_h2os_standardization_and_one_hot(models):
    """The plan against plain numpy on the training CSV: numeric fill = mean, sub = mean,
    mul = 1 / sample sd; a missing or unseen level goes to the NA slot, the first level
    (the reference) to none, a missing number to the mean (0 after standardizing)."""
    d, model, data, _ = models["categorical"]
    scorer = d / "scorer_pre.py"
    _export(model, "-o", scorer, cwd=d)
    s = _load_scorer(scorer)
    header, rows = _table(d / "adult_train.csv")
    age = np.array([float(r[header.index("age")]) for r in rows
                    if r[header.index("age")] not in ("", "NA")])
    spec = next(n for n in s.PLAN["numeric"] if n["name"] == "age")
    assert spec["fill"] == pytest.approx(age.mean()) and spec["sub"] == pytest.approx(age.mean())
    assert spec["mul"] == pytest.approx(1 / age.std(ddof=1))
    names = [n["name"] for n in s.PLAN["numeric"]] + [c["name"] for c in s.PLAN["categorical"]]
    assert "const" not in names and "fnlwgt" not in names and "income" not in names
    work = next(c for c in s.PLAN["categorical"] if c["name"] == "workclass")
    assert not work["use_all_levels"]
    off, levels = work["offset"], work["levels"]
    x = s.preprocess({"workclass": [levels[0], levels[2], "", "Moon-base"], "age": ["NA"] * 4}, 4)
    block = x[:, off:off + len(levels)]          # L - 1 level slots, then the NA slot
    expect = np.zeros((4, len(levels)), np.float32)
    expect[1, 1] = expect[2, -1] = expect[3, -1] = 1.0
    np.testing.assert_array_equal(block, expect)
    assert np.all(x[:, spec["slot"]] == 0.0)


@pytest.mark.parametrize("kind", KINDS)
def test_onnx_graph_under_onnxruntime_equals_predict(models, kind):
    ort = pytest.importorskip("onnxruntime", reason="the [onnx] extra is not installed")
    d, model, data, pred = models[kind]
    graph = d / "model.onnx"
    _export(model, "--format", "onnx", "-o", graph, cwd=d)
    plan = json.loads((d / "model.preprocessing.json").read_text())
    scorer = d / "scorer_onnx.py"
    _export(model, "-o", scorer, cwd=d)
    s = _load_scorer(scorer)
    assert plan == s.PLAN
    x = s.preprocess(*s.read_csv(data))
    out = ort.InferenceSession(str(graph)).run(["output"], {"input": x})[0].astype(np.float64)
    header, rows = _table(pred)
    if plan["output"]["kind"] == "linear":   # the JSON's rule by hand: f / mul + sub
        out = out[:, 0] / plan["output"]["response_mul"] + plan["output"]["response_sub"]
        np.testing.assert_allclose(out, [float(r[0]) for r in rows], rtol=0, atol=TOL)
    else:
        np.testing.assert_allclose(out, [[float(v) for v in r[1:]] for r in rows], atol=TOL)


def _read_h2o_frame_csv(path: Path) -> np.ndarray:
    header, rows = _table(path)
    assert header == [f"C{j + 1}" for j in range(len(header))]
    return np.array(rows, dtype=np.float64)


@pytest.mark.parametrize("kind", ["binomial", "categorical"])
def test_weight_tables_drive_a_hand_forward_pass(models, kind):
    """weights_L.csv is H2O's frame: row r = unit r of layer L+1 (Maxout: rows 2k, 2k+1 the
    two channels of unit k), column Cj = unit j of layer L; biases_L.csv one column.  The
    model file keeps the same tables; a forward pass written here from them reproduces
    `mpidl predict`'s probabilities."""
    import h5py
    d, model, data, pred = models[kind]
    folder = d / "weights"
    folder.mkdir()
    _export(model, "--weights", folder, "-o", d / "scorer_w.py", cwd=d)
    s = _load_scorer(d / "scorer_w.py")
    n_layers = len(s.PLAN["layer_shapes"])
    with h5py.File(model, "r") as f:
        kept = {k: v[...] for k, v in f["weights_and_biases"].items()}
    ws, bs = [], []
    for i in range(n_layers):
        w, b = (_read_h2o_frame_csv(folder / f"{t}_{i}.csv") for t in ("weights", "biases"))
        np.testing.assert_array_equal(np.load(folder / f"weights_{i}.npy"), kept[f"weights_{i}"])
        np.testing.assert_allclose(w, kept[f"weights_{i}"], rtol=1e-7)
        ws.append(w)
        bs.append(b[:, 0])
    a = s.preprocess(*s.read_csv(data)).astype(np.float64) * s.PLAN["input_scale"]
    for i, hidden in enumerate(s.PLAN["hidden"]):
        z = a @ ws[i].T + bs[i]
        if hidden["activation"] == "Maxout":
            a = np.maximum(z[:, 0::2], z[:, 1::2])
        else:
            a = np.tanh(z) if hidden["activation"] == "Tanh" else np.maximum(z, 0)
        a = a * hidden["scale"]
    z = a @ ws[-1].T + bs[-1]
    p = np.exp(z - z.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    _, rows = _table(pred)
    np.testing.assert_allclose(p, [[float(v) for v in r[1:]] for r in rows], atol=TOL)
    names = [r[0] for r in _table(folder / "input_names.csv")[1]]
    assert len(names) == ws[0].shape[1]


def test_model_file_without_the_parameter_keeps_no_tables(tmp_path):
    import h5py
    from cli_run import prostate
    job = tmp_path / "plain.toml"
    job.write_text(f'training_frame = "{prostate()}"\nresponse_column = "AGE"\n'
                   'hidden = [3]\nepochs = 1\n')
    proc = mpidl("train", job, "--threads", "1", "-o", tmp_path / "plain.h5", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    with h5py.File(tmp_path / "plain.h5", "r") as f:
        assert "weights_and_biases" not in f
