"""A model file's weights are the ones that were written, and usable.

``write_model`` stores a CRC-32 of each float32 buffer (``buf``, ``best_buf``) as an attribute
``<name>_crc32``; ``read_model`` recomputes it and refuses a file whose bytes changed.  Files
written before the checksums existed have no such attribute and are not checked.  Whatever the
file, weights or biases that are NaN or infinite (a diverged run, a hand-edited file) are
refused: they would only ever predict NaN.  The layers must also fit the column plan, since
the kernels index the first layer's weight rows with the plan's input slots.
"""

from __future__ import annotations

import zlib

import numpy as np

from ..errors import UserError

SUFFIX = "_crc32"


def checksum(buf: np.ndarray) -> int:
    """CRC-32 of ``buf``'s bytes as little-endian float32, C order."""
    data = np.ascontiguousarray(buf, dtype="<f4")
    return zlib.crc32(memoryview(data).cast("B"))


def check_checksum(path: str, name: str, buf: np.ndarray, attrs) -> None:
    """UserError naming ``path`` when ``attrs`` hold a checksum for ``name`` that ``buf``
    does not match (no attribute: a file from before checksums, accepted)."""
    key = name + SUFFIX
    if key in attrs and int(attrs[key]) != checksum(buf):
        raise UserError(f"{path}: damaged model file (dataset '{name}' does not match its "
                        "checksum)")


def check_usable(path: str, model) -> None:
    """UserError naming ``path`` when the layers do not fit the column plan or a weight or
    bias of ``model`` (current or best) is NaN or infinite."""
    d, units = model.dinfo, model.layout.units
    n_out = d.full_n if d.autoencoder else (d.nclasses if d.classification else 1)
    if units[0] != d.full_n or units[-1] != n_out or model.layout.autoencoder != d.autoencoder:
        raise UserError(f"{path}: damaged model file (layers {list(units)} do not fit "
                        f"{d.full_n} inputs and {n_out} outputs)")
    for name, buf in (("weights", model.buf), ("best weights", model.best_buf)):
        if buf is not None and not np.isfinite(model.params_view(buf)).all():
            raise UserError(f"{path}: the model's {name} hold NaN or infinite values "
                            "(a diverged or damaged model); it cannot predict")
