"""Which model copies a run keeps: one shared model per node (``node_shared_model``), an
average overlapped with the next iteration (``averaging_overlap``), or the blocking average of
every rank's model (``averaging.ModelCopies``).  The one place that chooses."""

from __future__ import annotations

from .averaging import ModelCopies
from .node_model import NodeModelCopies
from .overlap import OverlapCopies


def model_copies(model, comm) -> ModelCopies:
    """This rank's model copies for a run (a collective for the node's shared model); on one
    rank averaging is the identity, so overlap has nothing to overlap."""
    p = model.params
    if p.node_shared_model:
        return NodeModelCopies(model, comm)
    if p.averaging_overlap and comm.size > 1:
        return OverlapCopies(model, comm)
    return ModelCopies(model, comm)
