"""H2O's ``Sanity.modifyParms``: the parameters the trainer uses, rewritten from the job's
(dropout defaults, one rank, the optimizer's unused values, AUTO choices, reproducible), with
one note per change for the log; and ``replicates_data``, the rule that decides whether every
rank reads all training rows, which the data is opened by before ``sanitize`` runs."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from .auto import auto_distribution, auto_loss
from .declare import DROPOUT_ACTIVATIONS, MANUAL_ONLY, MOMENTUM_ONLY
from .text import format_value
from .values import Params


def replicates_data(p: Mapping[str, Any], nranks: int) -> bool:
    """Whether every rank reads all training rows: replicate_training_data on several ranks,
    unless reproducible (which shards the data).  The data is opened by this rule before
    ``sanitize`` runs, so both must read it from here."""
    return bool(p["replicate_training_data"]) and nranks > 1 and not p["reproducible"]


def sanitize(p: Params, is_classification: bool, nclasses: int, nranks: int) -> tuple[Params, list[str]]:
    """H2O's modifyParms (spec 0.1): the parameters the trainer uses, and one note per change.

    Sanitizing twice changes nothing the second time. Unlike H2O, mini_batch_size is kept.
    """
    v = p.to_dict()
    notes: list[str] = []

    def set_(name: str, value: Any, why: str) -> None:
        if v[name] != value:
            notes.append(f"{name}: {format_value(v[name])} -> {format_value(value)} ({why})")
            v[name] = value

    if v["hidden_dropout_ratios"] is None and v["activation"] in DROPOUT_ACTIVATIONS:
        set_("hidden_dropout_ratios", [0.5] * len(v["hidden"]), f"default for {v['activation']}")
    replicate = v["replicate_training_data"]
    if replicate and not replicates_data(v, nranks) and nranks > 1:
        set_("replicate_training_data", False, "reproducible")
    if nranks == 1:
        set_("replicate_training_data", False, "one rank")
    if v["single_node_mode"] and (nranks == 1 or not replicate):
        set_("single_node_mode", False, "needs several ranks and replicated data")
    if v["autoencoder"]:
        set_("use_all_factor_levels", True, "autoencoder")
    if v["nfolds"] != 0:
        set_("overwrite_with_best_model", False, "cross-validation")
    if v["categorical_encoding"] == "AUTO":
        set_("categorical_encoding", "OneHotInternal", "AUTO")
    adam = v["adaptive_rate"] and v["adaptive_rate_method"] == "Adam"
    if v["adaptive_rate"]:
        unused = MOMENTUM_ONLY if adam else MANUAL_ONLY
        for name in unused:
            set_(name, 0.0, "unused with Adam" if adam else "unused with adaptive_rate")
    else:
        set_("rho", 0.0, "unused without adaptive_rate")
        set_("epsilon", 0.0, "unused without adaptive_rate")
    if adam:
        set_("rho", 0.0, "unused with Adam")
    else:
        set_("adam_beta1", 0.0, "Adam only")
        set_("adam_beta2", 0.0, "Adam only")
    if v["activation"] in ("Rectifier", "RectifierWithDropout") and v["max_w2"] == math.inf:
        set_("max_w2", 1000.0, "keeps an unbounded Rectifier in check")
    if v["autoencoder"] and v["stopping_metric"] == "AUTO":
        set_("stopping_metric", "MSE", "autoencoder")
    if v["distribution"] == "AUTO":
        set_("distribution", *auto_distribution(v["loss"], is_classification, nclasses))
    if v["loss"] == "Automatic":
        set_("loss", auto_loss(v["distribution"]), f"Automatic for {v['distribution']}")
    if v["reproducible"]:
        set_("force_load_balance", True, "reproducible")
        set_("single_node_mode", False, "reproducible")
        set_("score_each_iteration", True, "reproducible")
        if v["train_samples_per_iteration"] == -2:
            set_("train_samples_per_iteration", -1, "reproducible: no auto-tuning")
    return Params._trusted(v), notes
