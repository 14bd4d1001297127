"""A model's scoring recipe as plain data: the preprocessing description and the layer arrays.

The exported scorer (``scorer.py``) and the ONNX export (``onnx_graph.py``) both take their
preprocessing and output rules from ``describe(model)``, a JSON-serializable dict (written
beside an ONNX graph as ``*.preprocessing.json``; its fields are documented in
docs/export.md), and the network from ``layer_arrays(model)``.  The rules are those of
``data/datainfo.py::DataInfo.transform`` (scoring, never Skip), ``predict.py`` and, for an
autoencoder, ``autoencoder.py`` (the reconstruction in data units, the reconstruction MSE).
"""

from __future__ import annotations

import numpy as np

from ..autoencoder import reconstruction_names
from ..data.coltypes import NA_STRINGS
from ..model.class_dist import class_factors
from ..predict import binomial_threshold
from ..predict_columns import scoring_names

FORMAT = "mpidl-scoring"
VERSION = 1
_DEVIANCE = ("poisson", "gamma", "tweedie")


def describe(model) -> dict:
    """The preprocessing, network shape and output rule of ``model`` (JSON-serializable)."""
    d, lay, p = model.dinfo, model.layout, model.params
    offsets = d.cat_offsets
    hidden_ratios = list(p.hidden_dropout_ratios or [])
    hidden_ratios += [0.0] * (lay.n_layers - 1 - len(hidden_ratios))
    return {
        "format": FORMAT, "version": VERSION, "model_id": model.model_id,
        "input_columns": d.predictors,
        "missing_tokens": list(NA_STRINGS),
        "categorical": [{"name": name, "levels": list(dom), "offset": int(off),
                         "use_all_levels": bool(d.use_all_levels)}
                        for name, dom, off in zip(d.cat_names, d.cat_domains, offsets)],
        "numeric": [{"name": name, "fill": fill, "sub": sub, "mul": mul, "slot": d.num_start + i}
                    for i, (name, fill, sub, mul) in
                    enumerate(zip(d.num_names, d.num_fill, d.num_sub, d.num_mul))],
        "input_width": d.full_n,
        "layer_shapes": [[int(n_in), int(m) * int(n_out)] for n_in, n_out, m in
                         zip(lay.units[:-1], lay.units[1:], lay.mult)],
        "input_scale": 1.0 - float(p.input_dropout_ratio),
        "hidden": [{"units": int(u), "activation": lay.activation.replace("WithDropout", ""),
                    "scale": 1.0 - float(r)} for u, r in zip(lay.units[1:-1], hidden_ratios)],
        "output": _output(model),
        "columns": (reconstruction_names(d) if d.autoencoder
                    else scoring_names(d.response_domain)),
    }


def _output(model) -> dict:
    """How the network's last layer becomes the prediction columns."""
    d = model.dinfo
    if d.autoencoder:   # the output layer has the hidden activation (Maxout is refused)
        return {"kind": "reconstruction", "space": "normalized",
                "activation": model.layout.activation.replace("WithDropout", "")}
    if d.classification:
        return {"kind": "softmax", "classes": list(d.response_domain),
                "threshold": binomial_threshold(model) if d.nclasses == 2 else None,
                "class_factors": None if model.model_class_dist is None else
                class_factors(model.prior_class_dist, model.model_class_dist).tolist()}
    return {"kind": "linear", "response_sub": float(d.resp_sub),
            "response_mul": float(d.resp_mul),
            "exp_link": model.params.distribution in _DEVIANCE}


def layer_arrays(model) -> list[tuple[np.ndarray, np.ndarray]]:
    """[(W float32[units[l], mult * units[l+1]], b float32[mult * units[l+1]])] per weight
    layer, oriented for ``activations @ W + b`` (Maxout: columns 2k, 2k+1 are unit k's two
    channels), copied out of the model's buffer."""
    lay = model.layout
    view = model.params_view()
    return [(np.ascontiguousarray(lay.weights(view, i).T, dtype=np.float32),
             np.array(lay.biases(view, i), dtype=np.float32)) for i in range(lay.n_layers)]
