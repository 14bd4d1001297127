"""The cross-validation parameters' rules that need no data (H2O's ``ModelBuilder.init``):
nfolds is 0 or >= 2; nfolds and fold_column exclude each other; fold_assignment needs nfolds;
no cross-validation on a checkpoint restart; the keep_cross_validation_* choices need
cross-validation.  (nfolds > rows, and a fold column that is missing or has one value, need
the frame: ``cv/folds.py``.)"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from mpidl.errors import UserError

_KEEP_DEFAULTS = {"keep_cross_validation_models": True,
                  "keep_cross_validation_predictions": False,
                  "keep_cross_validation_fold_assignment": False}


def cross_validates(p) -> bool:
    """Whether parameters ``p`` (Params or a dict of values) ask for cross-validation."""
    get = p.get if isinstance(p, Mapping) else lambda k: getattr(p, k)
    return int(get("nfolds") or 0) > 0 or bool(get("fold_column"))


def check_cross_validation(vals: Mapping[str, Any], fail: Callable[[str, str], UserError]) -> None:
    """Raise ``fail(name, message)`` for the first rule ``vals`` (all parameter values) breaks."""
    if vals["nfolds"] == 1:
        raise fail("nfolds", "must be 0 (no cross-validation) or >= 2")
    if vals["fold_column"] and vals["nfolds"]:
        raise fail("nfolds", f"cannot be set together with fold_column "
                   f"('{vals['fold_column']}' gives the folds); remove one")
    if vals["fold_assignment"] != "AUTO" and not vals["nfolds"]:
        why = "fold_column gives the folds" if vals["fold_column"] else "needs nfolds >= 2"
        raise fail("fold_assignment", f"{vals['fold_assignment']}: {why}")
    if not cross_validates(vals):
        for name, default in _KEEP_DEFAULTS.items():
            if vals[name] != default:
                raise fail(name, "needs cross-validation (nfolds >= 2 or fold_column)")
        return
    if vals["checkpoint"]:
        raise fail("nfolds" if vals["nfolds"] else "fold_column",
                   "cross-validation cannot continue a checkpoint (as in H2O); remove checkpoint")
    if vals["fold_column"] and vals["fold_column"] == vals["response_column"]:
        raise fail("fold_column", f"'{vals['fold_column']}' is the response column")
    if vals["fold_column"] and vals["fold_column"] in (vals["weights_column"],):
        raise fail("fold_column", f"'{vals['fold_column']}' is the weights column")


def _main(argv: list[str]) -> int:
    """``python -m mpidl.params.crossval JOB.toml [--set KEY=VALUE ...]``: exit 0 when the job
    cross-validates, 1 when it does not, 2 when it cannot be read (slurm/train.sbatch asks
    before a requeue: a cross-validation continues from its own files, no checkpoint)."""
    from .jobfile import load_job
    overrides = [v for k, v in zip(argv[1:], argv[2:]) if k == "--set"]
    try:
        return 0 if cross_validates(load_job(argv[0], overrides)) else 1
    except (UserError, IndexError, OSError):
        return 2


if __name__ == "__main__":
    import sys
    sys.exit(_main(sys.argv[1:]))
