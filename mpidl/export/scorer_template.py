"""Standalone scorer of an mpidl Deep Learning model: numpy and the standard library only.

Written by ``python -m mpidl export MODEL -o scorer.py`` (the template is
``mpidl/export/scorer_template.py``; ``PLAN`` and ``LAYERS`` hold the model).  Like H2O's
POJO it applies the model's own preprocessing and output rule:

- numeric predictors: a missing value (empty, NA, ?, NaN, N/A, null) takes the training mean,
  then ``(x - sub) * mul`` (H2O's standardization);
- categorical predictors: one-hot; a missing value or a level the model never saw goes to the
  column's NA slot; without use_all_factor_levels the first level is the reference (no slot);
- columns the model ignored (ignored_columns, constant columns, the response) are not read;
- classification: class probabilities, and the label by H2O's rule (two classes: the second
  level when its probability reaches the max-F1 threshold; more: the most probable);
  regression: the value in the response's units;
- autoencoder: the reconstruction of every input slot (H2O's ``reconstr_`` columns), numerics
  mapped back to data units (``y / mul + sub``), categorical one-hot slots as the network gives
  them; ``anomaly`` gives H2O's ``Reconstruction.MSE`` (the mean squared error per row over the
  input slots, in the network's normalized space).

Use::

    python scorer.py data.csv [-o predictions.csv]   # the columns `mpidl predict` writes
    python scorer.py data.csv --anomaly [-o errors.csv]   # autoencoder: `mpidl anomaly`'s
    import scorer; scorer.predict(rows)              # rows: list of dicts, or a 2-D array

``predict(rows, columns=None)`` returns {column name: numpy array} in the columns of
``COLUMNS``; ``anomaly(rows, columns=None)`` float64[n].  A 2-D array holds raw values with its columns named by ``columns`` (default
``INPUT_COLUMNS``, the model's predictor order, categoricals first as in H2O's POJO).
"""

import argparse
import base64
import csv
import json
import math
import os
import sys

import numpy as np

PLAN = json.loads("{}")  # @plan: the model's preprocessing and output (mpidl export fills it)
LAYERS = ""  # @layers: every layer's W then b, float32 little-endian, base64 (mpidl export)

MISSING_TOKENS = frozenset(PLAN.get("missing_tokens", []))   # the importer's, from the plan
INPUT_COLUMNS = list(PLAN.get("input_columns", []))
COLUMNS = list(PLAN.get("columns", []))
BLOCK_ROWS = 1024   # rows preprocessed and scored at a time
_CACHE = {}


def layers():
    """[(W float32[n_in, n_out], b float32[n_out])] per weight layer, decoded once."""
    if "layers" not in _CACHE:
        flat = np.frombuffer(base64.b64decode(LAYERS), dtype="<f4")
        out, pos = [], 0
        for n_in, n_out in PLAN["layer_shapes"]:
            w = flat[pos:pos + n_in * n_out].reshape(n_in, n_out)
            b = flat[pos + n_in * n_out:pos + n_in * n_out + n_out]
            out.append((w, b))
            pos += n_in * n_out + n_out
        _CACHE["layers"] = out
    return _CACHE["layers"]


def _is_missing(value):
    """Whether a raw value counts as missing (None, NaN, or a missing token)."""
    if value is None:
        return True
    if isinstance(value, str):
        return value.strip() in MISSING_TOKENS
    return isinstance(value, float) and math.isnan(value)


def _level_name(value):
    """H2O's name of a number used as a level: integers without '.0'."""
    v = float(value)
    return str(int(v)) if v.is_integer() else repr(v)


def _level_codes(values, levels):
    """int64[n]: each raw value's index in ``levels``; -1 when missing or unseen."""
    index = {lv: i for i, lv in enumerate(levels)}
    memo = {}

    def code(value):
        if _is_missing(value):
            return -1
        key = value.strip() if isinstance(value, str) else value
        if key not in memo:
            found = index.get(key) if isinstance(key, str) else None
            if found is None:
                try:
                    found = index.get(_level_name(key), -1)
                except (TypeError, ValueError):
                    found = -1
            memo[key] = found
        return memo[key]
    return np.fromiter((code(v) for v in values), dtype=np.int64, count=len(values))


def _numbers(values):
    """float64[n] of raw values; missing tokens, non-numbers and text infinities are NaN."""
    arr = np.asarray(values)
    if arr.dtype.kind in "biuf":
        return arr.astype(np.float64)
    if arr.dtype.kind == "U":
        try:  # every token a number: one vectorized conversion
            out = arr.astype(np.float64)
            out[np.isinf(out)] = np.nan
            return out
        except ValueError:
            pass
    out = np.empty(len(values), dtype=np.float64)
    for i, v in enumerate(values):
        try:
            out[i] = np.nan if _is_missing(v) else float(v)
        except (TypeError, ValueError):
            out[i] = np.nan
        if isinstance(v, str) and math.isinf(out[i]):
            out[i] = np.nan
    return out


def _numeric_block(columns, n):
    """float64[n, numerics]: the raw numeric predictors (NaN where missing or absent)."""
    names = [num["name"] for num in PLAN["numeric"]]
    if isinstance(columns, ArrayColumns):
        return columns.block(names)
    out = np.full((n, len(names)), np.nan)
    for i, name in enumerate(names):
        if columns.get(name) is not None:
            out[:, i] = _numbers(columns[name])
    return out


def preprocess(columns, n):
    """float32[n, input_width]: the network's input from {name: raw values} (absent: missing)
    or an ``ArrayColumns``."""
    x = np.zeros((n, PLAN["input_width"]), dtype=np.float32)
    rows = np.arange(n)
    for cat in PLAN["categorical"]:
        values = columns.get(cat["name"])
        codes = np.full(n, -1, np.int64) if values is None else _level_codes(values, cat["levels"])
        nlev, off = len(cat["levels"]), cat["offset"]
        if cat["use_all_levels"]:
            slot = np.where(codes < 0, off + nlev, off + codes)
        else:
            slot = np.where(codes < 0, off + nlev - 1, np.where(codes == 0, -1, off + codes - 1))
        hit = slot >= 0
        x[rows[hit], slot[hit]] = 1.0
    if PLAN["numeric"]:
        fill, sub, mul = (np.array([num[k] for num in PLAN["numeric"]]) for k in
                          ("fill", "sub", "mul"))
        raw = _numeric_block(columns, n)    # a fresh float64 array: changed in place
        missing = np.isnan(raw)
        if missing.any():
            np.copyto(raw, np.broadcast_to(fill, raw.shape), where=missing)
        raw -= sub
        first = PLAN["numeric"][0]["slot"]   # the numerics fill the input's last slots
        np.multiply(raw, mul, out=x[:, first:first + len(fill)], casting="same_kind")
    return x


class ArrayColumns:
    """A 2-D array of raw values whose columns are named ``names``: ``get(name)`` gives one
    column (None when absent), ``block(names)`` several as float64 (NaN for absent ones)."""

    def __init__(self, arr, names):
        self.arr, self.index = arr, {name: i for i, name in enumerate(names)}

    def rows(self, lo, hi):
        """The rows [lo, hi) as an ``ArrayColumns``."""
        view = ArrayColumns(self.arr[lo:hi], [])
        view.index = self.index
        return view

    def get(self, name):
        i = self.index.get(name)
        return None if i is None else self.arr[:, i]

    def block(self, names):
        present = [name for name in names if name in self.index]
        if self.arr.dtype.kind in "biuf" and len(present) == len(names):
            picked = np.take(self.arr, [self.index[name] for name in names], axis=1)
            return picked.astype(np.float64, copy=False)   # a row-major copy
        out = np.full((len(self.arr), len(names)), np.nan)
        for i, name in enumerate(names):
            if name in self.index:
                out[:, i] = _numbers(self.get(name))
        return out


def _activated(z, activation):
    """A Rectifier or Tanh layer's activations of its pre-activations ``z`` (Maxout: the
    larger of channels 2k and 2k+1 of each unit k)."""
    if activation == "Rectifier":
        return np.maximum(z, np.float32(0.0))
    if activation == "Tanh":
        return np.tanh(z)
    return z.reshape(len(z), -1, 2).max(axis=2)


def network(x):
    """float32[n, outputs]: class probabilities (softmax), the link-space output, or an
    autoencoder's reconstruction in the normalized input space."""
    a = x
    if PLAN["input_scale"] != 1.0:
        a = a * np.float32(PLAN["input_scale"])
    stack = layers()
    for layer, (w, b) in enumerate(stack[:-1]):
        z = a @ w
        z += b
        hidden = PLAN["hidden"][layer]
        a = _activated(z, hidden["activation"])
        if hidden["scale"] != 1.0:
            a *= np.float32(hidden["scale"])
    w, b = stack[-1]
    z = a @ w
    z += b
    if PLAN["output"]["kind"] == "reconstruction":
        return _activated(z, PLAN["output"]["activation"])
    if PLAN["output"]["kind"] != "softmax":
        return z
    z -= z.max(axis=1, keepdims=True)
    np.exp(z, out=z)
    z /= z.sum(axis=1, keepdims=True)
    factors = PLAN["output"]["class_factors"]
    if factors is not None:   # balance_classes: back to the training frame's class mix
        z *= np.asarray(factors, dtype=np.float32)
        z /= z.sum(axis=1, keepdims=True)
    return z


def outputs(net):
    """{column: array} of the network's output ``net``, as `mpidl predict` names them."""
    rule = PLAN["output"]
    out = net.astype(np.float64)
    if rule["kind"] == "reconstruction":   # numeric slots back to data units
        for num in PLAN["numeric"]:
            out[:, num["slot"]] = out[:, num["slot"]] / num["mul"] + num["sub"]
        return {name: out[:, k] for k, name in enumerate(COLUMNS)}
    if rule["kind"] != "softmax":
        y = out[:, 0] / rule["response_mul"] + rule["response_sub"]
        if rule["exp_link"]:
            y = np.minimum(np.exp(y), 1e19)
        return {"predict": y}
    classes = np.array(rule["classes"], dtype=object)
    if rule["threshold"] is not None:
        label = (out[:, 1] >= rule["threshold"]).astype(np.int64)
    else:
        label = out.argmax(axis=1)
    result = {"predict": classes[label]}
    result.update({name: out[:, k] for k, name in enumerate(COLUMNS[1:])})
    return result


def _named_columns(rows, columns):
    """({name: raw values} or ``ArrayColumns``, n) from a list of dicts or a 2-D array named
    by ``columns``."""
    if isinstance(rows, (list, tuple)) and (not rows or isinstance(rows[0], dict)):
        return {name: [r.get(name) for r in rows] for name in INPUT_COLUMNS}, len(rows)
    arr = np.asarray(rows)
    if arr.ndim != 2:
        raise ValueError(f"rows: expected a list of dicts or a 2-D array, got {arr.ndim}-D")
    names = list(INPUT_COLUMNS if columns is None else columns)
    if arr.shape[1] != len(names):
        raise ValueError(f"rows: {arr.shape[1]} columns, but {len(names)} column names")
    return ArrayColumns(arr, names), arr.shape[0]


def reconstruction_mse(x):
    """float64[n, 1]: H2O's ``Reconstruction.MSE`` of the preprocessed rows ``x``, the mean
    over the input slots of (reconstruction - input)^2 (the clean input: no dropout)."""
    err = network(x).astype(np.float64) - x
    return (err * err).mean(axis=1, keepdims=True)


def scored(named, n, per_block=network):
    """``per_block`` (default: the network's outputs) of the preprocessed rows of named
    columns, float[n, outputs], ``BLOCK_ROWS`` rows at a time (the working arrays stay
    small enough for the caches)."""
    out = None
    for lo in range(0, n, BLOCK_ROWS):
        hi = min(n, lo + BLOCK_ROWS)
        if isinstance(named, ArrayColumns):
            part = named.rows(lo, hi)
        else:
            part = {name: values[lo:hi] for name, values in named.items()}
        net = per_block(preprocess(part, hi - lo))
        if out is None:
            out = np.empty((n, net.shape[1]), dtype=net.dtype)
        out[lo:hi] = net
    return out if out is not None else per_block(preprocess(named, 0))


def predict(rows, columns=None):
    """Predictions {column: numpy array[n]} for ``rows`` (see the module docstring)."""
    named, n = _named_columns(rows, columns)
    return outputs(scored(named, n))


def anomaly(rows, columns=None):
    """An autoencoder's ``Reconstruction.MSE`` float64[n] of ``rows`` (as ``predict``)."""
    return _anomaly_of(*_named_columns(rows, columns))


def _anomaly_of(named, n):
    if PLAN["output"]["kind"] != "reconstruction":
        raise ValueError("anomaly needs an autoencoder; this model predicts "
                         f"{PLAN['columns'][0]!r} (use predict)")
    return scored(named, n, reconstruction_mse)[:, 0]


def _csv_name(s):
    return f'"{s}"' if ("," in s or '"' in s) else s


def write_csv(result, f):
    """Write ``predict``'s result as `mpidl predict` does (same header and number formats)."""
    f.write(",".join(_csv_name(c) for c in COLUMNS) + "\n")
    if PLAN["output"]["kind"] == "reconstruction":
        write_matrix(np.column_stack([result[c] for c in COLUMNS]), f)
        return
    if PLAN["output"]["kind"] != "softmax":
        f.writelines("%.10g\n" % v for v in result["predict"])
        return
    probs = np.column_stack([result[c] for c in COLUMNS[1:]])
    f.writelines(_csv_name(label) + "," + ",".join(f"{v:.8g}" for v in row) + "\n"
                 for label, row in zip(result["predict"], probs))


def write_matrix(values, f):
    """Rows of float64[n, k] ``values`` as `mpidl predict` and `mpidl anomaly` write them."""
    if values.size:
        np.savetxt(f, values, fmt="%.8g", delimiter=",")


def read_csv(path):
    """({name: list of stripped tokens}, rows) of a CSV file with a header line."""
    with open(path, newline="") as f:
        reader = csv.reader(f)
        header = [h.strip() for h in next(reader, [])]
        rows = [r for r in reader if any(t.strip() for t in r)]
    if not header:
        raise ValueError(f"{path}: empty file")
    cols = {name: [] for name in header}
    for r in rows:
        for name, token in zip(header, r + [""] * (len(header) - len(r))):
            cols[name].append(token.strip())
    return cols, len(rows)


def write_anomaly_csv(errors, f):
    """Write ``anomaly``'s float64[n] as `mpidl anomaly` does (column ``Reconstruction.MSE``)."""
    f.write("Reconstruction.MSE\n")
    write_matrix(errors[:, None], f)


def _write_output(path, write):
    """``write(f)`` into ``path`` (None: stdout); a file is written under a temporary name
    and renamed when complete: never a half-written output."""
    if path is None:
        write(sys.stdout)
        return
    tmp = f"{path}.tmp-{os.getpid()}"
    try:
        with open(tmp, "w", newline="") as f:
            write(f)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def main(argv=None):
    """Score a CSV (header line required) into the columns of `mpidl predict` (with
    ``--anomaly``: an autoencoder's reconstruction errors, as `mpidl anomaly`)."""
    ap = argparse.ArgumentParser(description=f"score a CSV with model {PLAN.get('model_id')}")
    ap.add_argument("data")
    ap.add_argument("-o", "--output", default=None, help="predictions CSV (default: stdout)")
    ap.add_argument("--anomaly", action="store_true",
                    help="autoencoder: write Reconstruction.MSE per row instead")
    args = ap.parse_args(argv)
    try:
        cols, n = read_csv(args.data)
        if not set(cols) & set(INPUT_COLUMNS):
            raise ValueError(f"{args.data}: no column in common with the model's inputs")
        if args.anomaly:
            errors = _anomaly_of(cols, n)
            _write_output(args.output, lambda f: write_anomaly_csv(errors, f))
        else:
            result = outputs(scored(cols, n))
            _write_output(args.output, lambda f: write_csv(result, f))
    except (OSError, ValueError, UnicodeDecodeError) as e:
        sys.stderr.write(f"scorer: error: {e}\n")
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
