"""What the commands that score a model on a frame (``anomaly``, ``features``) do before
scoring, as ``predict`` does: the same command line on every rank, the output checked before
any work, the model read, the data opened once (it may be a pipe), warnings about its columns
printed by rank 0."""

from __future__ import annotations

import sys


def open_inputs(args, comm, check_model=None):
    """(model, frame) of ``args.model`` and ``args.data``; ``check_model(model, path)`` may
    refuse the model (a UserError on every rank) before the data is read."""
    from .checkpoint import read_model
    from .consistency import check_same_on_every_rank
    from .data.frame import Frame
    from .destination import check_destination
    from .predict_columns import input_warnings
    check_same_on_every_rank(comm, {k: v for k, v in vars(args).items() if k != "threads"},
                             "the command line")
    comm.call_root_agreed(check_destination, args.output, [args.model, args.data])
    model = comm.call_agreed(read_model, args.model)
    if check_model is not None:
        comm.call_agreed(check_model, model, args.model)
    frame = comm.call_agreed(Frame, args.data, comm.size)
    warnings = comm.call_agreed(
        lambda: input_warnings(model.dinfo, frame) if comm.is_root else [])
    for line in warnings or []:
        sys.stderr.write(f"mpidl: warning: {line}\n")
    return model, frame
