"""Command line: ``python -m mpidl {import,train,grid,predict,anomaly,features,inspect,plot,report,export} ...``
(design.md's contract).

Exit codes: 0 success; 2 bad input or usage (one line on stderr, printed once); 1 internal
error or diverged training; 75 checkpointed on SIGTERM/SIGUSR1, resubmit to continue.  Any
failure on one rank that the other ranks cannot know about aborts the whole MPI job.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
import traceback

from .errors import EXIT_INTERNAL, EXIT_OK, EXIT_REQUEUE, EXIT_USER, UserError
from .stdout_pipe import guard_stdout


def _env_rank() -> int:
    """This process's rank from the launcher's environment (no MPI call)."""
    from .launch_env import env_rank
    return env_rank()


class _Parser(argparse.ArgumentParser):
    """argparse, but usage errors become one line (printed by rank 0 only) and exit 2."""

    def error(self, message):
        raise UserError(f"{self.prog}: {message}")


def _parser() -> argparse.ArgumentParser:
    ap = _Parser(prog="mpidl", description="H2O-3 Deep Learning as an MPI batch application.")
    sub = ap.add_subparsers(dest="command", required=True, parser_class=_Parser)
    imp = sub.add_parser("import", help="CSV / CSV.gz / zip -> HDF5 table")
    imp.add_argument("src")
    imp.add_argument("-o", "--output", required=True, help="destination .h5")
    imp.add_argument("--categorical", nargs="*", default=[], metavar="COL",
                     help="numeric columns to import as categorical (e.g. the response)")
    imp.add_argument("--numeric", nargs="*", default=[], metavar="COL",
                     help="columns to import as numeric (their other tokens become missing)")
    imp.add_argument("--compress", choices=("lzf", "gzip"), default=None,
                     help="compress the table's chunks (default: none)")
    hdr = imp.add_mutually_exclusive_group()
    hdr.add_argument("--header", dest="header", action="store_true", default=None)
    hdr.add_argument("--no-header", dest="header", action="store_false")
    tr = sub.add_parser("train", help="train a model from a TOML job file")
    tr.add_argument("job")
    tr.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    tr.add_argument("--threads", type=int, default=None, help="Hogwild threads per rank")
    tr.add_argument("-o", "--output", default=None, help="model file (default MODEL_ID.h5)")
    tr.add_argument("--ranks-per-model", type=int, default=None, metavar="K",
                    help="with nfolds: groups of K ranks share the fold models (default all)")
    gr = sub.add_parser("grid", help="H2O grid search: train a model per hyper-parameter point")
    gr.add_argument("job")
    gr.add_argument("-o", "--output", default=".", help="folder for the models and grid.csv")
    gr.add_argument("--threads", type=int, default=None, help="Hogwild threads per rank")
    one = gr.add_mutually_exclusive_group()
    one.add_argument("--ranks-per-model", type=int, default=None, metavar="K",
                     help="ranks per model (default 1): groups of K share the points")
    one.add_argument("--index", type=int, default=None, metavar="I", help="train point I only")
    one.add_argument("--collect", default=None, metavar="DIR",
                     help="only write DIR/grid.csv from the model files in DIR")
    _add_scoring_parsers(sub)
    return ap


def _add_scoring_parsers(sub) -> None:
    """The commands that read a model file: predict, anomaly, features, inspect, plot,
    report, export."""
    pr = sub.add_parser("predict", help="predict with a model")
    pr.add_argument("model")
    pr.add_argument("data")
    pr.add_argument("-o", "--output", required=True, help="predictions CSV")
    pr.add_argument("--threads", type=int, default=None)
    an = sub.add_parser("anomaly", help="an autoencoder's reconstruction error per row")
    an.add_argument("model")
    an.add_argument("data")
    an.add_argument("-o", "--output", required=True, help="reconstruction errors CSV")
    an.add_argument("--per-feature", action="store_true", help="one error column per input")
    an.add_argument("--threads", type=int, default=None)
    ft = sub.add_parser("features", help="activations of a hidden layer (deep features)")
    ft.add_argument("model")
    ft.add_argument("data")
    ft.add_argument("--layer", type=int, required=True, help="hidden layer, 1 = the first")
    ft.add_argument("-o", "--output", required=True, help="features CSV")
    ft.add_argument("--threads", type=int, default=None)
    ins = sub.add_parser("inspect", help="show a model's layers, scoring history, metrics")
    ins.add_argument("model")
    ins.add_argument("--json", action="store_true")
    pl = sub.add_parser("plot", help="PNG figures of a model (needs mpidl[plot])")
    pl.add_argument("model")
    pl.add_argument("-o", "--output", required=True, help="existing folder for the PNGs")
    rep = sub.add_parser("report", help="one self-contained HTML page of a model")
    rep.add_argument("model")
    rep.add_argument("-o", "--output", required=True, help="the .html file")
    ex = sub.add_parser("export", help="a standalone scorer, an ONNX graph or weight tables")
    ex.add_argument("model")
    ex.add_argument("-o", "--output", default=None, help="scorer.py, or model.onnx")
    ex.add_argument("--format", choices=("python", "onnx"), default="python")
    ex.add_argument("--weights", default=None, metavar="DIR", help="write weights/biases here")


def _log_root(comm):
    def log(*args, flush=False, **kw):
        if comm.is_root:
            sys.stdout.write(" ".join(str(a) for a in args) + "\n")
            if flush:
                sys.stdout.flush()
    return log


def _cmd_import(args, comm) -> int:
    from .data.importer import import_csv
    from .destination import check_destination
    t0 = time.perf_counter()
    comm.call_root_agreed(check_destination, args.output, [args.src])
    notes: list[str] = []
    info = import_csv(args.src, args.output, categorical=args.categorical, header=args.header,
                      numeric=args.numeric, notes=notes, compression=args.compress, comm=comm)
    if comm.is_root:
        for line in notes:
            _say(f"mpidl: warning: {line}")
        ncat = sum(c.kind == "categorical" for c in info.columns)
        ranks = f" on {comm.size} ranks" if comm.size > 1 else ""
        print(f"imported {args.src} -> {args.output}: {info.nrows} rows x "
              f"{len(info.columns)} columns ({ncat} categorical) in "
              f"{time.perf_counter() - t0:.1f}s{ranks}")
    return EXIT_OK


def _cmd_train(args, comm, threads: int) -> int:
    from .consistency import check_same_on_every_rank
    from .destination import check_destination
    from .cv.run import train_with_cv
    from .params import load_job, resolve_stopping_metric
    from .train.progress import final_line
    notes: list[str] = []
    params = comm.call_agreed(load_job, args.job, args.overrides, notes)
    for note in notes:
        _log_root(comm)(f"note: {note}")
    check_same_on_every_rank(comm, params.to_dict(), args.job)
    model_id = params.model_id or os.path.splitext(os.path.basename(args.job))[0]
    out = args.output or f"{model_id}.h5"
    comm.call_root_agreed(check_destination, out,
                          [params.training_frame, params.validation_frame])
    model = train_with_cv(params, comm, threads, out, model_id, log=_log_root(comm),
                          choose_threads=args.threads is None,
                          ranks_per_model=args.ranks_per_model)
    if comm.is_root:
        metric = resolve_stopping_metric(model.params, model.dinfo.classification)
        print(final_line(model, out, metric))
    return EXIT_OK


def _cmd_grid(args, comm, threads: int) -> int:
    from .grid.search import run
    per_model = 1 if args.ranks_per_model is None else args.ranks_per_model
    run(args.job, args.collect or args.output, comm, threads, per_model, args.index,
        args.collect is not None, choose_threads=args.threads is None)
    return EXIT_OK


def _cmd_predict(args, comm, threads: int) -> int:
    from .checkpoint import read_model
    from .consistency import check_same_on_every_rank
    from .data.frame import Frame
    from .destination import check_destination
    from .predict import predict_to_csv
    from .predict_columns import input_warnings
    check_same_on_every_rank(comm, {k: v for k, v in vars(args).items() if k != "threads"},
                             "the command line")
    comm.call_root_agreed(check_destination, args.output, [args.model, args.data])
    model = comm.call_agreed(read_model, args.model)
    frame = comm.call_agreed(Frame, args.data, comm.size)    # opened once: it may be a pipe
    warnings = comm.call_agreed(
        lambda: input_warnings(model.dinfo, frame) if comm.is_root else [])
    for line in warnings or []:
        _say(f"mpidl: warning: {line}")
    n = predict_to_csv(model, frame, args.output, comm, threads)
    if comm.is_root:
        print(f"wrote {n} predictions to {args.output}")
    return EXIT_OK


def _cmd_anomaly(args, comm, threads: int) -> int:
    from .anomaly import anomaly_to_csv, require_autoencoder
    from .score_command import open_inputs
    model, frame = open_inputs(args, comm, require_autoencoder)
    n = anomaly_to_csv(model, frame, args.output, comm, threads, args.per_feature)
    _log_root(comm)(f"wrote {n} reconstruction errors to {args.output}")
    return EXIT_OK


def _cmd_features(args, comm) -> int:
    from .features import check_layer, features_to_csv
    from .score_command import open_inputs
    model, frame = open_inputs(args, comm, lambda m, path: check_layer(m, args.layer, path))
    n = features_to_csv(model, frame, args.layer, args.output, comm)
    _log_root(comm)(f"wrote {n} rows of layer {args.layer} features to {args.output}")
    return EXIT_OK


def _cmd_inspect(args, comm) -> int:
    from .checkpoint import read_model
    from .report import json_report, text_report
    def show():
        model = read_model(args.model)
        if args.json:
            print(json.dumps(json_report(model), allow_nan=True))
        else:
            sys.stdout.write(text_report(model))
    comm.call_root_agreed(show)
    return EXIT_OK


def _cmd_plot(args, comm) -> int:
    from .plots import write_plots
    def plot():
        for path in write_plots(args.model, args.output):
            print(f"wrote {path}")
    comm.call_root_agreed(plot)
    return EXIT_OK


def _cmd_report(args, comm) -> int:
    from .html_report import write_report
    comm.call_root_agreed(lambda: print(f"wrote {write_report(args.model, args.output)}"))
    return EXIT_OK


def _cmd_export(args, comm) -> int:
    from .export.command import run_export
    written = comm.call_root_agreed(run_export, args)
    if comm.is_root:
        print("wrote " + ", ".join(written))
    return EXIT_OK


def _say(line: str) -> None:
    sys.stderr.write(line + "\n")
    sys.stderr.flush()


def main(argv=None) -> int:
    """Entry point; returns the process exit code (aborts the MPI job on one-rank failures)."""
    rank = _env_rank()
    guard_stdout()
    # a file size limit (ulimit -f) then fails a write with EFBIG, reported like a full disk
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    try:
        args = _parser().parse_args(argv)
    except UserError as e:
        if rank == 0:
            _say(f"mpidl: error: {e}")
        return EXIT_USER
    except SystemExit as e:  # --help
        return int(e.code or 0)
    from .threads import configure_threads
    try:
        threads, warn = configure_threads(getattr(args, "threads", None))
    except UserError as e:  # the same environment on every rank: rank 0 says it
        if rank == 0:
            _say(f"mpidl: error: {e}")
        return EXIT_USER
    from .comm import world
    comm = world()
    if warn and comm.is_root:
        _say(f"mpidl: warning: {warn}")
    from .errors import CheckpointedOnSignal, TrainingDiverged
    try:
        return _COMMANDS[args.command](args, comm, threads)
    except UserError as e:
        if getattr(e, "agreed", False) or comm.size == 1:
            if comm.is_root:
                _say(f"mpidl: error: {e}")
            return EXIT_USER
        _say(f"mpidl rank {comm.rank}: error: {e}")
        comm.abort(EXIT_USER)
    except CheckpointedOnSignal:
        return EXIT_REQUEUE
    except TrainingDiverged as e:
        if comm.is_root:
            _say(f"mpidl: error: {e}")
        return EXIT_INTERNAL
    except KeyboardInterrupt:
        _say(f"mpidl rank {comm.rank}: interrupted")
        comm.abort(130)
    except Exception as e:  # noqa: BLE001 - any failure must end every rank
        _say(f"mpidl rank {comm.rank}: internal error: {type(e).__name__}: {e}")
        if os.environ.get("MPIDL_TRACEBACK"):
            traceback.print_exc()
        if comm.size > 1:
            comm.abort(EXIT_INTERNAL)
        return EXIT_INTERNAL
    return EXIT_INTERNAL


# command name -> its function of (parsed arguments, communicator, threads per rank)
_COMMANDS = {
    "import": lambda args, comm, threads: _cmd_import(args, comm),
    "train": _cmd_train,
    "grid": _cmd_grid,
    "predict": _cmd_predict,
    "anomaly": _cmd_anomaly,
    "features": lambda args, comm, threads: _cmd_features(args, comm),
    "inspect": lambda args, comm, threads: _cmd_inspect(args, comm),
    "plot": lambda args, comm, threads: _cmd_plot(args, comm),
    "report": lambda args, comm, threads: _cmd_report(args, comm),
    "export": lambda args, comm, threads: _cmd_export(args, comm),
}
