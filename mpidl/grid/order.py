"""The order in which a parallel grid search hands its points to the groups of ranks.

With several groups the points go longest first (LPT scheduling: Graham 1969), so no group
is left training one large model at the end while the others wait: the estimated cost of a
point is its epochs times its network's weights (times 2 for Maxout's two channels), the
input layer's width being the training table's column count (mpidl .h5 tables; 100 for a
CSV, whose header is not read here).  Which group trains a point never changes the model;
only when each point is trained.  One group, a time limit (``max_runtime_secs``) or a
grid-level early stop (``stopping_rounds``) keep the grid's own order, since there the order
decides which points are trained at all (H2O trains them in that order).
"""

from __future__ import annotations

from ..errors import UserError

NOMINAL_INPUTS = 100   # input width assumed when the training frame is not an mpidl table


def queue_order(job, groups: int) -> list[int]:
    """Point indices in the order the shared queue hands them out (see the module doc)."""
    c = job.criteria
    indices = list(range(len(job.points)))
    if groups <= 1 or c.max_runtime_secs > 0 or c.stopping_rounds > 0:
        return indices
    inputs = _input_width(job.fixed.get("training_frame"))
    cost = [point_cost(job, i, inputs) for i in indices]
    return sorted(indices, key=lambda i: -cost[i])


def point_cost(job, index: int, inputs: int) -> float:
    """Epochs x weights of grid point ``index`` (0 for an invalid point: it fails at once)."""
    try:
        p = job.params_of(index)
    except UserError:
        return 0.0
    units = [inputs, *p.hidden, 1]
    weights = sum(a * b for a, b in zip(units, units[1:]))
    return p.epochs * weights * (2 if p.activation.startswith("Maxout") else 1)


def _input_width(path) -> int:
    """The column count of an mpidl table at ``path``, else NOMINAL_INPUTS."""
    if not isinstance(path, str) or not path.lower().endswith((".h5", ".hdf5", ".hdf")):
        return NOMINAL_INPUTS
    from ..data.hdf5 import read_info
    try:
        return max(1, len(read_info(path).columns) - 1)
    except (OSError, KeyError, ValueError, UserError):
        return NOMINAL_INPUTS
