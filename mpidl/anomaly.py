"""``mpidl anomaly MODEL DATA -o OUT.csv [--per-feature]``: an autoencoder's reconstruction
error per row, H2O's ``h2o.anomaly`` (spec 11): one column ``Reconstruction.MSE``, or with
``--per-feature`` one ``reconstr_<coefname>.SE`` column per expanded input.  Each rank scores
its block of rows; rank 0 writes them in row order (the file one rank writes)."""

from __future__ import annotations

from .autoencoder import error_names, squared_errors
from .errors import UserError
from .predict import matrix_csv, transformed_block, write_blocks


def require_autoencoder(model, path: str) -> None:
    """UserError unless ``model`` (read from ``path``) is an autoencoder."""
    if not model.dinfo.autoencoder:
        raise UserError(f"{path}: not an autoencoder (it predicts '{model.dinfo.response}'); "
                        "anomaly needs a model trained with autoencoder = true")


def anomaly_to_csv(model, data, out_path: str, comm, threads: int,
                   per_feature: bool = False) -> int:
    """Write the reconstruction errors of every row of ``data`` to ``out_path``; returns the
    number of rows (on every rank)."""
    nums, cats, nrows = transformed_block(model, data, comm)
    errors = squared_errors(model.dinfo, nums, cats, model.raw_output(nums, cats, threads))
    if per_feature:
        header, block = matrix_csv(error_names(model.dinfo), errors)
    else:
        header, block = matrix_csv(["Reconstruction.MSE"], errors.mean(axis=1)[:, None])
    write_blocks(out_path, header, block, comm)
    return int(nrows)
