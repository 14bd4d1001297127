"""``mpidl export`` (issue 14, points 1-3): the standalone scorer, the ONNX graph, weight tables.

Every model kind of ``export_models.KINDS``: the scorer, run by a Python that has numpy and
nothing of mpidl, writes the predictions ``mpidl predict`` writes (probabilities and values
within 1e-5; a label may differ only where the probability is within 1e-5 of the max-F1
threshold or of the runner-up class, a tie that float rounding decides); ONNX outputs under
onnxruntime equal them within 1e-5; the weight tables, read back as CSV and pushed through a
hand-written forward pass in H2O's orientation, give the same probabilities.

An autoencoder's reconstruction (``reconstr_`` columns, numerics in data units) is compared
in the units the network computes in: a numeric column's difference times its ``mul``
(1 / (max - min) of the training column) within 1e-5, a one-hot slot's within 1e-5 (float32
rounding of the network is ~1e-7 of a column's range: ~1e-2 in data units for capital-gain,
whose range is 99,999).  Its ``Reconstruction.MSE`` from the scorer, from the ONNX graph and
by hand from the reconstruction equal `mpidl anomaly`'s within 1e-5.
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


def _reconstruction_units(plan: dict) -> np.ndarray:
    """float64[input_width]: per slot, what one data unit is in the network's units (a
    numeric slot's ``mul``, 1 for a one-hot slot)."""
    units = np.ones(plan["input_width"])
    for num in plan["numeric"]:
        units[num["slot"]] = num["mul"]
    return units


def _assert_same_reconstruction(want: np.ndarray, got: np.ndarray, plan: dict) -> None:
    """An autoencoder's reconstructions float64[n, input_width] agree in network units."""
    assert got.shape == want.shape == (len(want), plan["input_width"])
    np.testing.assert_allclose((got - want) * _reconstruction_units(plan), 0, atol=TOL)


def _assert_same_predictions(want: Path, got_header, got_rows, plan: dict) -> None:
    """``got`` equals `mpidl predict`'s ``want`` (see the module docstring for labels)."""
    header, rows = _table(want)
    assert got_header == header and len(got_rows) == len(rows)
    if plan["output"]["kind"] == "reconstruction":
        _assert_same_reconstruction(np.array(rows, dtype=float), np.array(got_rows, dtype=float),
                                    plan)
        return
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
    assert (plan["output"]["kind"] == "reconstruction") == kind.startswith("autoencoder")
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
    assert (plan["output"]["kind"] == "reconstruction") == kind.startswith("autoencoder")
    x = s.preprocess(*s.read_csv(data))
    out = ort.InferenceSession(str(graph)).run(["output"], {"input": x})[0].astype(np.float64)
    header, rows = _table(pred)
    if plan["output"]["kind"] == "reconstruction":   # the JSON's rule: numerics / mul + sub
        for num in plan["numeric"]:
            out[:, num["slot"]] = out[:, num["slot"]] / num["mul"] + num["sub"]
        _assert_same_reconstruction(np.array(rows, dtype=float), out, plan)
    elif plan["output"]["kind"] == "linear":   # the JSON's rule by hand: f / mul + sub
        out = out[:, 0] / plan["output"]["response_mul"] + plan["output"]["response_sub"]
        np.testing.assert_allclose(out, [float(r[0]) for r in rows], rtol=0, atol=TOL)
    else:
        np.testing.assert_allclose(out, [[float(v) for v in r[1:]] for r in rows], atol=TOL)


def _read_h2o_frame_csv(path: Path) -> np.ndarray:
    header, rows = _table(path)
    assert header == [f"C{j + 1}" for j in range(len(header))]
    return np.array(rows, dtype=np.float64)


@pytest.mark.parametrize("kind", ["binomial", "categorical", "autoencoder"])
def test_weight_tables_drive_a_hand_forward_pass(models, kind):
    """weights_L.csv is H2O's frame: row r = unit r of layer L+1 (Maxout: rows 2k, 2k+1 the
    two channels of unit k), column Cj = unit j of layer L; biases_L.csv one column.  The
    model file keeps the same tables; a forward pass written here from them reproduces
    `mpidl predict`'s probabilities (an autoencoder's reconstruction: the output layer with
    the hidden activation, numerics mapped back by x = y (max - min) + mean)."""
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
    _, rows = _table(pred)
    if kind == "autoencoder":
        _assert_same_reconstruction(np.array(rows, dtype=float), _hand_reconstruction(z, s.PLAN),
                                    s.PLAN)
    else:
        p = np.exp(z - z.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        np.testing.assert_allclose(p, [[float(v) for v in r[1:]] for r in rows], atol=TOL)
    names = [r[0] for r in _table(folder / "input_names.csv")[1]]
    assert len(names) == ws[0].shape[1]


def _hand_reconstruction(z: np.ndarray, plan: dict) -> np.ndarray:
    """An autoencoder's output layer (the hidden activation, here Tanh) of pre-activations
    ``z``, numeric slots mapped back to data units by the training column's mean and range,
    as H2O's NORMALIZE is undone."""
    assert plan["hidden"][0]["activation"] == "Tanh"
    y = np.tanh(z)
    for num in plan["numeric"]:
        y[:, num["slot"]] = y[:, num["slot"]] / num["mul"] + num["sub"]
    return y


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


def _mpidl_anomaly(d: Path, model: Path, data: Path) -> np.ndarray:
    """`mpidl anomaly`'s Reconstruction.MSE float64[n] of ``data``."""
    out = d / "mpidl_anomaly.csv"
    if not out.exists():
        proc = mpidl("anomaly", model, data, "-o", out, cwd=d)
        assert proc.returncode == 0, proc.stderr
    header, rows = _table(out)
    assert header == ["Reconstruction.MSE"]
    return np.array([float(r[0]) for r in rows])


def test_autoencoder_plan_is_h2os_normalize_with_every_level_a_slot(models):
    """An autoencoder's inputs (spec 11): numerics (x - mean) / (max - min) of the training
    column (plain numpy here), every categorical level a slot plus the NA slot."""
    d, model, data, _ = models["autoencoder"]
    scorer = d / "scorer_plan.py"
    _export(model, "-o", scorer, cwd=d)
    s = _load_scorer(scorer)
    header, rows = _table(d / "adult_train.csv")
    for name in ("age", "capital-gain"):
        x = np.array([float(r[header.index(name)]) for r in rows
                      if r[header.index(name)] not in ("", "NA")])
        spec = next(n for n in s.PLAN["numeric"] if n["name"] == name)
        assert spec["sub"] == pytest.approx(x.mean()) and spec["fill"] == pytest.approx(x.mean())
        assert spec["mul"] == pytest.approx(1 / (x.max() - x.min()))
    work = next(c for c in s.PLAN["categorical"] if c["name"] == "workclass")
    assert work["use_all_levels"]
    assert s.PLAN["input_width"] == len(s.COLUMNS) == sum(
        len(c["levels"]) + 1 for c in s.PLAN["categorical"]) + len(s.PLAN["numeric"])
    assert s.PLAN["output"] == {"kind": "reconstruction", "space": "normalized",
                                "activation": "Tanh"}
    assert s.COLUMNS[0] == f"reconstr_{s.PLAN['categorical'][0]['name']}." \
        f"{s.PLAN['categorical'][0]['levels'][0]}"


def test_autoencoder_scorer_anomaly_equals_mpidl_anomaly_and_the_hand_formula(models):
    """``scorer.py DATA --anomaly`` (numpy alone) and ``anomaly(rows)`` give `mpidl anomaly`'s
    Reconstruction.MSE; so does spec 11's formula applied here to `mpidl predict`'s
    reconstruction: the mean over slots of (reconstruction - clean input)^2, numerics back in
    normalized units."""
    d, model, data, pred = models["autoencoder"]
    want = _mpidl_anomaly(d, model, data)
    scorer = d / "scorer_anomaly.py"
    _export(model, "-o", scorer, cwd=d)
    out = d / "scorer_anomaly.csv"
    proc = numpy_only(scorer, data, "--anomaly", "-o", out, cwd=d)
    assert proc.returncode == 0, proc.stderr
    header, rows = _table(out)
    assert header == ["Reconstruction.MSE"]
    np.testing.assert_allclose([float(r[0]) for r in rows], want, rtol=0, atol=TOL)
    s = _load_scorer(scorer)
    x = s.preprocess(*s.read_csv(data)).astype(np.float64)
    recon = np.array(_table(pred)[1], dtype=float)
    for num in s.PLAN["numeric"]:
        recon[:, num["slot"]] = (recon[:, num["slot"]] - num["sub"]) * num["mul"]
    np.testing.assert_allclose(((recon - x) ** 2).mean(axis=1), want, rtol=0, atol=TOL)
    header, rows = _table(data)
    dicts = [{k.strip(): v for k, v in zip(header, r) if v != ""} for r in rows if r]
    np.testing.assert_allclose(s.anomaly(dicts), want, rtol=0, atol=TOL)


def test_onnx_reconstruction_mse_equals_the_scorers_and_mpidl_anomaly(models):
    ort = pytest.importorskip("onnxruntime", reason="the [onnx] extra is not installed")
    d, model, data, _ = models["autoencoder"]
    graph = d / "ae.onnx"
    _export(model, "--format", "onnx", "-o", graph, cwd=d)
    _export(model, "-o", d / "scorer_ae_onnx.py", cwd=d)
    s = _load_scorer(d / "scorer_ae_onnx.py")
    named, n = s.read_csv(data)
    mse = ort.InferenceSession(str(graph)).run(["reconstruction_mse"],
                                               {"input": s.preprocess(named, n)})[0]
    assert mse.shape == (n, 1)
    np.testing.assert_allclose(mse[:, 0], _mpidl_anomaly(d, model, data), rtol=0, atol=TOL)
    np.testing.assert_allclose(mse[:, 0], s.anomaly(np.array([named[c] for c in s.INPUT_COLUMNS],
                                                              dtype=object).T), rtol=0, atol=TOL)


def test_scorer_anomaly_of_a_supervised_model_is_one_line(models):
    d, model, data, _ = models["regression"]
    scorer = d / "scorer_no_anomaly.py"
    _export(model, "-o", scorer, cwd=d)
    proc = numpy_only(scorer, data, "--anomaly", "-o", d / "never.csv", cwd=d)
    assert proc.returncode == 2 and not (d / "never.csv").exists()
    assert proc.stderr.count("\n") == 1 and "anomaly needs an autoencoder" in proc.stderr
