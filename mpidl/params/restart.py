"""Checkpoint restarts: H2O's ``Sanity.checkpoint`` (``check_restart``: which parameters must
equal the checkpoint's) and ``Sanity.update`` (``restart_params``: the checkpoint's parameters
with the job's restart-modifiable values)."""

from __future__ import annotations

from mpidl.errors import UserError

from .declare import ADAM_ONLY, ADAPTIVE_ONLY, MANUAL_ONLY, MOMENTUM_ONLY, PARAMS
from .text import format_value
from .values import Params


def check_restart(old: Params, new: Params, source: str) -> None:
    """Raise UserError unless a job may continue the checkpoint whose parameters are ``old``.

    ``old`` may be the checkpoint's user parameters or its sanitized ones: values that
    sanitize rewrites are compared only where they matter (rate with manual rate, rho with
    adaptive_rate, distribution unless one side is AUTO, categorical_encoding AUTO =
    OneHotInternal). ``source`` is the checkpoint path. The epochs-vs-epoch-counter rule and
    the data checks (columns, domains, response type) are done by the caller.
    """
    where = f"checkpoint {source}"
    if (old.validation_frame is None) != (new.validation_frame is None):
        has = "was trained with" if old.validation_frame is not None else "was trained without"
        raise UserError(f"{where}: parameter 'validation_frame': the checkpoint {has} a validation frame; "
                        "the job must match")
    skip: set[str] = set()
    if old.adaptive_rate == new.adaptive_rate:
        if not old.adaptive_rate:
            skip.update(ADAPTIVE_ONLY + ADAM_ONLY + ("adaptive_rate_method",))
        elif old.adaptive_rate_method == new.adaptive_rate_method == "Adam":
            skip.update(MOMENTUM_ONLY + ("rho",))
        elif old.adaptive_rate_method == new.adaptive_rate_method:
            skip.update(MANUAL_ONLY + ADAM_ONLY)
    if "AUTO" in (old.distribution, new.distribution):
        skip.add("distribution")
    norm = {"categorical_encoding": lambda x: "OneHotInternal" if x == "AUTO" else x}
    order = ["response_column", "hidden", "ignored_columns", "adaptive_rate", "adaptive_rate_method"]
    order += [q.name for q in PARAMS if not q.modifiable_on_checkpoint and q.name not in order]
    for name in order:
        if name in skip:
            continue
        f = norm.get(name, lambda x: x)
        a, b = f(old[name]), f(new[name])
        if a != b:
            raise UserError(f"{where}: parameter '{name}' differs (checkpoint: {format_value(a)}, "
                            f"job: {format_value(b)}); it cannot change on restart")


def restart_params(old: Params, new: Params) -> Params:
    """H2O's Sanity.update: the checkpoint's parameters with every restart-modifiable value
    taken from the job. Run ``sanitize`` on the result."""
    return old.replace(**{q.name: new[q.name] for q in PARAMS if q.modifiable_on_checkpoint})
