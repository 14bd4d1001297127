"""The ``export`` command: a model file -> scorer.py, model.onnx (+ JSON), weight tables."""

from __future__ import annotations

from ..checkpoint import read_model
from ..destination import check_destination
from ..errors import UserError


def run_export(args) -> list[str]:
    """Check every destination, read the model, write what ``args`` ask; the paths written."""
    if args.output is None and args.weights is None:
        raise UserError("export: give -o FILE (a scorer or, with --format onnx, a graph) "
                        "and/or --weights DIR")
    if args.output is not None:
        check_destination(args.output, [args.model])
    model = read_model(args.model)
    if args.output is not None and model.dinfo.offset_column:
        raise UserError(f"{args.model}: the model adds offset column "
                        f"'{model.dinfo.offset_column}' to its output, which the exported "
                        "scorer and ONNX graph do not take; export --weights only")
    if args.output is not None and model.dinfo.hash_slots:
        raise UserError(f"{args.model}: the model hashes its categorical slots "
                        "(max_categorical_features), which the exported scorer and ONNX graph "
                        "do not do; export --weights only")
    if args.output is not None and model.dinfo.encoding:
        raise UserError(f"{args.model}: categorical_encoding "
                        f"{model.params.categorical_encoding} rewrites the categorical columns, "
                        "which the exported scorer and ONNX graph do not do; export --weights only")
    written = []
    if args.output is not None and args.format == "onnx":
        from .onnx_graph import write_onnx
        written += write_onnx(model, args.output, [args.model])
    elif args.output is not None:
        from .scorer import write_scorer
        write_scorer(model, args.output, [args.model])
        written.append(args.output)
    if args.weights is not None:
        from .weights import write_weight_files
        written += write_weight_files(model, args.weights, [args.model])
    return written
