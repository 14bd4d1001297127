"""The memory a training run's model takes, checked before the model is made.

Sizes the user controls (``hidden``, the levels of categorical predictors, the classes of the
response, ``mini_batch_size``) multiply into the network; ``hidden = [1e11]`` used to end in
"internal error: MemoryError".  ``require_training_memory`` applies ``memory.require`` (the
one rule) to the estimate below and names what made it large.

Estimate, float32 throughout: the buffer (weights, biases, optimizer slots) ``MODEL_COPIES``
times (the model, the best model, a working copy for calibration and the allreduce, the
initialization's temporaries), twice more with elastic averaging; with ``mini_batch_size``
B > 1 each thread also holds B rows of activations, pre-activations, errors and gradients of
every layer and a weight-gradient array the size of the weights (``kernels/minibatch.py``).
"""

from __future__ import annotations

from ..memory import require
from .network import Layout

MODEL_COPIES = 4
ELASTIC_COPIES = 2
_F32 = 4


def training_bytes(layout: Layout, batch: int, threads: int, elastic: bool) -> tuple[int, int]:
    """(bytes of the model copies, bytes of the mini-batch arrays of all threads)."""
    copies = MODEL_COPIES + (ELASTIC_COPIES if elastic else 0)
    model = layout.buffer_size() * _F32 * copies
    if batch <= 1:
        return model, 0
    units = [int(u) for u in layout.units]
    n_z = [int(m) * units[i + 1] for i, m in enumerate(layout.mult)]
    per_thread = (_F32 * (layout.n_params + batch * (2 * sum(units) + 2 * sum(n_z)))
                  + batch * sum(units))
    return model, per_thread * max(1, threads)


def _side(layout: Layout, dinfo, params, index: int) -> str:
    """What sized ``layout.units[index]``: the input columns, ``hidden`` or the classes."""
    units = layout.units
    if index == 0:
        levels = sorted(zip(map(len, dinfo.cat_domains), dinfo.cat_names), reverse=True)
        if levels and levels[0][0] > len(dinfo.num_names):
            return f"column '{levels[0][1]}' of training_frame ({levels[0][0]} levels)"
        return f"the {units[0]} inputs of training_frame"
    if index == len(units) - 1:
        if dinfo.classification:
            return f"response_column '{dinfo.response}' ({units[-1]} classes)"
        return "the output layer"
    return f"hidden={list(params.hidden)}"


def culprit(layout: Layout, dinfo, params) -> str:
    """The larger side of the largest weight layer, named as the user set it."""
    units = layout.units
    layer = max(range(layout.n_layers), key=lambda i: units[i] * units[i + 1])
    return _side(layout, dinfo, params, layer if units[layer] >= units[layer + 1] else layer + 1)


def require_training_memory(layout: Layout, dinfo, params, threads: int,
                            ranks_on_node: int) -> None:
    """UserError naming the parameter or column when training this network cannot fit."""
    batch = int(params.mini_batch_size)
    model, arrays = training_bytes(layout, batch, threads, bool(params.elastic_averaging))
    if arrays > model:
        what = (f"mini_batch_size={batch} (batch arrays of {threads} thread(s) for layers "
                f"{list(layout.units)})")
    else:
        what = (f"{culprit(layout, dinfo, params)} (a network of {layout.n_params:.3g} weights "
                f"and biases, layers {list(layout.units)})")
    require(model + arrays, what, ranks_on_node)
