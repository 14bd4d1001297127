"""The checks of H2O's ``DeepLearningParameters.validate``: ``validate`` those that need no
data (types, ranges, parameters and values mpidl refuses, required names, dropout ratios per
layer), ``validate_for_data`` those that need the response type (loss and distribution)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mpidl.errors import UserError

from .coerce import check_value, expected, unknown_parameter
from .crossval import check_cross_validation
from .declare import CLASSIFICATION_METRICS, DEFAULTS, DROPOUT_ACTIVATIONS, PARAM_BY_NAME, UNSUPPORTED_VALUES
from .initial import check_initial_layers
from .text import format_value
from .unsupervised import check_unsupervised
from .values import Params


def validate(raw: Mapping[str, Any], source: str, origins: Mapping[str, str] | None = None) -> Params:
    """Check user parameters (H2O names) and return Params with defaults filled in.

    Types, ranges, unsupported parameters and the rules of spec 0.2 that need no data.
    ``source`` names the job file in messages; ``origins`` may name another source per key
    (``--set``). Raises UserError on the first problem.
    """
    origins = origins or {}
    where = lambda name: origins.get(name, source)  # noqa: E731
    for name in raw:
        if name not in PARAM_BY_NAME:
            raise unknown_parameter(name, where(name))
    vals = dict(DEFAULTS)
    for name, v in raw.items():
        q = PARAM_BY_NAME[name]
        val = check_value(q, v, where(name))
        if not q.supported and val != q.default:
            raise UserError(f"{where(name)}: parameter '{name}' is not supported by mpidl yet"
                            f" (leave it at its default, {format_value(q.default)})")
        if q.kind == "enum" and (name, val) in UNSUPPORTED_VALUES:
            raise UserError(f"{where(name)}: parameter '{name}': value '{val}' is not supported by mpidl yet; "
                            f"use {expected(q)}")
        vals[name] = val

    def fail(name: str, msg: str) -> UserError:
        return UserError(f"{where(name)}: parameter '{name}': {msg}")

    hdr = vals["hidden_dropout_ratios"]
    if hdr is not None:
        if vals["activation"] not in DROPOUT_ACTIVATIONS:
            raise fail("hidden_dropout_ratios", f"needs a dropout activation (activation is {vals['activation']}; "
                       f"use {vals['activation'].replace('WithDropout', '')}WithDropout or remove "
                       f"hidden_dropout_ratios)")
        if len(hdr) != len(vals["hidden"]):
            raise fail("hidden_dropout_ratios", f"needs one ratio per hidden layer: {len(vals['hidden'])} "
                       f"for hidden = {format_value(vals['hidden'])}, got {len(hdr)}")
    masks = vals["hidden_dropout_masks"]
    if masks != DEFAULTS["hidden_dropout_masks"] and vals["activation"] not in DROPOUT_ACTIVATIONS:
        raise fail("hidden_dropout_masks", f"{masks} needs a dropout activation (activation is "
                   f"{vals['activation']}: no hidden unit is dropped)")
    if vals["col_major"]:
        raise fail("col_major", "deprecated in H2O and not supported (column-major storage); remove it")
    for name, what in (("training_frame", "the training data (.h5 or CSV)"),
                       ("response_column", "the name of the response column")):
        if vals[name] is None or vals[name] == "":
            if name == "response_column" and vals["autoencoder"]:
                continue
            raise UserError(f"{where(name)}: parameter '{name}' is required ({what})")
    if vals["response_column"] and vals["response_column"] in (vals["ignored_columns"] or []):
        raise fail("ignored_columns", f"lists the response column '{vals['response_column']}'; "
                   "remove it from ignored_columns")
    if vals["sparse"] and vals["elastic_averaging"]:
        raise fail("sparse", "not with elastic_averaging = true (H2O refuses the pair); set one "
                   "false")
    if vals["class_sampling_factors"] is not None and not vals["balance_classes"]:
        raise fail("class_sampling_factors", "needs balance_classes = true")
    if vals["validation_frame"] == "":
        vals["validation_frame"] = None
    check_cross_validation(vals, fail)
    check_unsupervised(vals, fail)
    check_initial_layers(vals, fail)
    if vals["offset_column"] and vals["offset_column"] == vals["weights_column"]:
        raise fail("offset_column", "must differ from weights_column (H2O's rule)")
    _check_extensions(vals, fail)
    return Params._trusted(vals)


def _check_extensions(vals: dict, fail) -> None:
    """The combinations of mpidl's averaging extensions that cannot run together."""
    overlap_not_with = {
        "single_node_mode": "single_node_mode trains on rank 0 alone, so there is no average "
                            "to overlap",
        "reproducible": "the ranks meet at every scoring, and when the scoring clock fires "
                        "varies from run to run, so results are not bit-identical",
        "node_shared_model": "a node's shared model is averaged among node leaders, "
                             "blocking"}
    for other, why in overlap_not_with.items():
        if vals["averaging_overlap"] and vals[other]:
            raise fail("averaging_overlap", f"not with {other} = true ({why}); set one false")
    for other, why in (("reproducible", "Hogwild across the ranks of a node is not reproducible"),
                       ("elastic_averaging", "a node's shared model is averaged, not elastic")):
        if vals["node_shared_model"] and vals[other]:
            raise fail("node_shared_model", f"not with {other} = true ({why}); set one false")


def validate_for_data(p: Params, is_classification: bool, nclasses: int, source: str) -> None:
    """The rules of spec 0.2 that need the response type (nclasses = 1 for regression)."""

    def fail(name: str, msg: str) -> UserError:
        return UserError(f"{source}: parameter '{name}': {msg}")

    loss, dist, resp = p.loss, p.distribution, p.response_column
    if is_classification:
        if nclasses < 2:
            raise UserError(f"{source}: response column '{resp}' has {nclasses} class(es); classification needs >= 2")
        if loss not in ("Automatic", "CrossEntropy", "Quadratic"):
            raise fail("loss", f"{loss} is not allowed for classification (response '{resp}' is categorical); "
                       "use Automatic, CrossEntropy or Quadratic")
        if dist not in ("AUTO", "bernoulli", "multinomial"):
            raise fail("distribution", f"{dist} is not allowed for classification (response '{resp}' is "
                       "categorical); use AUTO, bernoulli or multinomial")
        factors = p.class_sampling_factors
        if factors is not None and len(factors) != nclasses:
            raise fail("class_sampling_factors", f"needs one factor per class of '{resp}': {nclasses}, "
                       f"got {len(factors)}")
        if dist == "bernoulli" and nclasses != 2:
            raise fail("distribution", f"bernoulli needs a 2-class response; '{resp}' has {nclasses} classes "
                       "(use multinomial)")
    else:
        if loss == "CrossEntropy":
            raise fail("loss", f"CrossEntropy needs a categorical response, and '{resp}' is numeric; use "
                       "Automatic, Quadratic, Absolute, Huber or Quantile, or set distribution = 'multinomial' "
                       "to treat the response as classes")
        if dist in ("bernoulli", "multinomial"):
            raise fail("distribution", f"{dist} is not allowed for regression (response '{resp}' is numeric)")
        allowed = {"tweedie": ("Automatic",), "gamma": ("Automatic",), "poisson": ("Automatic",),
                   "laplace": ("Automatic", "Absolute"), "quantile": ("Automatic", "Quantile"),
                   "huber": ("Automatic", "Huber")}.get(dist)
        if allowed and loss not in allowed:
            raise fail("loss", f"{loss} is not allowed with distribution {dist}; use {' or '.join(allowed)}")
        if p.stopping_metric in CLASSIFICATION_METRICS:
            raise fail("stopping_metric", f"{p.stopping_metric} needs a categorical response; use AUTO, "
                       "deviance, MSE, RMSE, MAE or RMSLE for regression")
        if p.balance_classes:
            raise fail("balance_classes", "needs a categorical response")
    if p.offset_column is not None and is_classification:
        raise fail("offset_column", "is only supported for regression")
