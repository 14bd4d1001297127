"""The model file (HDF5): everything needed to predict with a model or continue training it.

Layout: root attributes ``format = "mpidl-model"``, ``version``, and JSON documents
``params`` (sanitized parameters), ``datainfo``, ``layout``, ``state`` (counters, timing,
best loss, metrics) and ``history`` (scoring history rows); datasets ``buf`` (float32: weights,
biases, optimizer state; see ``model/network.py``) and, when kept, ``best_buf`` and (elastic
averaging, resumable checkpoints) ``local_bufs``, each with a CRC-32 attribute
(``buf_crc32`` ...) checked on load (``model/integrity.py``); with
``export_weights_and_biases`` a group ``weights_and_biases`` of readable per-layer tables
(``export/weights.py``; written, never read back: ``buf`` is the model).

Writes go to a temporary file in the target's directory, then ``os.replace``: a crash never
leaves a half-written model.  Only rank 0 calls ``write_model``.
"""

from __future__ import annotations

import json
import os

import numpy as np

from .atomic import atomic_h5
from .data.datainfo import DataInfo
from .destination import reason
from .errors import UserError
from .memory import require
from .model import integrity
from .model.network import Layout
from .model.state import Model
from .params import Params

os.environ.setdefault("HDF5_USE_FILE_LOCKING", "FALSE")
import h5py  # noqa: E402

FORMAT = "mpidl-model"
VERSION = 1
_STATE_FIELDS = ("model_id", "processed", "iterations", "training_rows", "epoch_counter",
                 "train_seconds", "scoring_seconds", "tspi", "comm_seconds", "huber_delta",
                 "best_loss", "training_metrics", "validation_metrics", "stop_reason", "nranks",
                 "memory", "best_at", "run_totals", "cross_validation_metrics",
                 "cross_validation_metrics_summary", "cross_validation_files",
                 "variable_importances", "prior_class_dist", "model_class_dist")


def _json(obj) -> str:
    return json.dumps(obj, allow_nan=True, default=lambda o: o.item() if hasattr(o, "item") else str(o))


# the model file's arrays: the weights, the best model's, elastic averaging's local models
_BUFFERS = ("buf", "best_buf", "local_bufs")


def write_model(path: str, model: Model, local_bufs: np.ndarray | None = None) -> None:
    """Write ``model`` to ``path`` atomically (``atomic.py``: temp file + rename; a full disk is
    a UserError naming ``path``).  ``local_bufs``: elastic averaging's local models of every
    rank, float32[nranks, len(buf)], for a resume."""
    with atomic_h5(path) as f:
        f.attrs["format"] = FORMAT
        f.attrs["version"] = VERSION
        f.attrs["params"] = _json(model.params.to_dict())
        f.attrs["datainfo"] = _json(model.dinfo.to_dict())
        lay = model.layout
        f.attrs["layout"] = _json({"units": list(lay.units), "activation": lay.activation,
                                   "classification": lay.classification,
                                   "slots": lay.slots, "autoencoder": lay.autoencoder})
        f.attrs["state"] = _json({k: getattr(model, k) for k in _STATE_FIELDS})
        f.attrs["history"] = _json(model.history)
        for name, buf in zip(_BUFFERS, (model.buf, model.best_buf, local_bufs)):
            if buf is not None:
                f.create_dataset(name, data=buf)
                f.attrs[name + integrity.SUFFIX] = integrity.checksum(buf)
        if model.params.export_weights_and_biases:
            from .export.weights import store_tables
            store_tables(f, model)
        if model.avg_activations is not None:
            f.create_dataset("avg_activations", data=model.avg_activations)


def read_model(path: str) -> Model:
    """Load a model file; a missing or foreign file is a UserError naming ``path``."""
    if not os.path.exists(path):
        raise UserError(f"{path}: no such model file")
    if not os.path.isfile(path):
        raise UserError(f"{path}: is not a model file (a folder or a device)")
    try:
        with h5py.File(path, "r") as f:
            if f.attrs.get("format") != FORMAT:
                raise UserError(f"{path}: not an mpidl model file")
            if int(f.attrs["version"]) > VERSION:
                raise UserError(f"{path}: model file version {int(f.attrs['version'])} is newer "
                                "than this mpidl understands")
            params = Params.from_dict(json.loads(f.attrs["params"]), source=path)
            dinfo = DataInfo.from_dict(json.loads(f.attrs["datainfo"]))
            lay = json.loads(f.attrs["layout"])
            state = json.loads(f.attrs["state"])
            history = json.loads(f.attrs["history"])
            require(sum(f[k].nbytes for k in _BUFFERS if k in f), f"{path} (the model's weights)")
            bufs = {k: f[k][...] for k in _BUFFERS if k in f}
            for name, b in bufs.items():
                integrity.check_checksum(path, name, b, f.attrs)
            buf = bufs["buf"]
            avg = f["avg_activations"][...] if "avg_activations" in f else None
    except OSError as e:
        raise UserError(f"{path}: not a readable HDF5 model file ({reason(e)})") from None
    except (KeyError, ValueError) as e:
        raise UserError(f"{path}: damaged model file ({e})") from None
    layout = Layout(units=tuple(lay["units"]), activation=lay["activation"],
                    classification=lay["classification"], slots=lay["slots"],
                    autoencoder=bool(lay.get("autoencoder", False)))
    if buf.shape != (layout.buffer_size(),):
        raise UserError(f"{path}: damaged model file (buffer size does not match the layers)")
    model = Model(params=params, dinfo=dinfo, layout=layout, buf=np.ascontiguousarray(buf),
                  history=history, best_buf=bufs.get("best_buf"),
                  local_bufs=bufs.get("local_bufs"), avg_activations=avg)
    for k in _STATE_FIELDS:
        if k in state:
            setattr(model, k, state[k])
    integrity.check_usable(path, model)
    return model
