"""Every H2O Deep Learning parameter, declared once as data, and the rules around them.

``PARAMS`` is the table: name, kind, H2O's default, a one-line meaning, the allowed range or
choices, whether the value may change on a checkpoint restart, and whether mpidl implements it.
Everything else reads the table:

- ``load_job(path, overrides)`` reads a TOML job file plus ``--set key=value`` overrides and
  returns validated ``Params``;
- ``validate(raw, source)`` does the checks of H2O's ``DeepLearningParameters.validate`` that
  need no data; ``validate_for_data`` does the ones that need the response type;
- ``sanitize`` is H2O's ``Sanity.modifyParms``: it returns the parameters the trainer uses, plus
  one note per change for the log;
- ``check_restart`` / ``restart_params`` are H2O's ``Sanity.checkpoint`` / ``Sanity.update``;
- ``describe_markdown()`` writes docs/parameters.md (``python -m mpidl.params``).

Every user-facing error is a ``UserError`` whose one-line message names the source (job file,
``--set``, checkpoint) and the parameter.
"""

from __future__ import annotations

import difflib
import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Iterable

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

from mpidl.errors import UserError

FLOAT_MAX = 3.4028234663852886e38  # Java Float.MAX_VALUE, H2O's max_w2 default ("off")
_INT64 = (-(2**63), 2**63 - 1)

KINDS = ("int", "float", "bool", "str", "enum", "path", "int_list", "float_list", "str_list")


@dataclass(frozen=True)
class Range:
    """Allowed interval for a number (or for each element of a numeric list)."""

    lo: float | None = None
    hi: float | None = None
    lo_open: bool = False
    hi_open: bool = False
    allow_inf: bool = False

    def contains(self, x: float) -> bool:
        if math.isnan(x) or (math.isinf(x) and not self.allow_inf):
            return False
        if self.lo is not None and (x <= self.lo if self.lo_open else x < self.lo):
            return False
        if self.hi is not None and (x >= self.hi if self.hi_open else x > self.hi):
            return False
        return True

    def __str__(self) -> str:
        if self.lo is not None and self.hi is not None:
            return f"in {'(' if self.lo_open else '['}{_fmt(self.lo)}, {_fmt(self.hi)}{')' if self.hi_open else ']'}"
        if self.lo is not None:
            return f"{'>' if self.lo_open else '>='} {_fmt(self.lo)}"
        if self.hi is not None:
            return f"{'<' if self.hi_open else '<='} {_fmt(self.hi)}"
        return ""


@dataclass(frozen=True)
class Param:
    """One parameter. ``check`` is a ``Range`` (numbers, numeric lists), a tuple of choices
    (enum, case-sensitive as H2O spells them) or None. A ``None`` default means "not set"."""

    name: str
    kind: str
    default: Any
    doc: str
    check: Range | tuple[str, ...] | None = None
    modifiable_on_checkpoint: bool = True
    supported: bool = True
    note: str = ""  # how mpidl differs from H2O (docs only)
    group: str = ""


# H2O's Sanity.cp_not_modifiable (spec section 9), plus hidden/ignored_columns (compared
# separately by H2O) and categorical_encoding (mpidl: it changes the input layer).
_FIXED_ON_RESTART = frozenset("""
    response_column activation use_all_factor_levels standardize adaptive_rate autoencoder rho
    epsilon sparse sparsity_beta col_major rate rate_annealing rate_decay momentum_start
    momentum_ramp momentum_stable nesterov_accelerated_gradient ignore_const_cols
    max_categorical_features nfolds distribution quantile_alpha huber_alpha tweedie_power
    hidden ignored_columns categorical_encoding adaptive_rate_method adam_beta1 adam_beta2""".split())

ACTIVATIONS = ("Tanh", "TanhWithDropout", "Rectifier", "RectifierWithDropout", "Maxout", "MaxoutWithDropout")
DROPOUT_ACTIVATIONS = frozenset(a for a in ACTIVATIONS if a.endswith("WithDropout"))
LOSSES = ("Automatic", "CrossEntropy", "Quadratic", "Absolute", "Huber", "Quantile")
DISTRIBUTIONS = ("AUTO", "bernoulli", "multinomial", "gaussian", "poisson", "gamma", "laplace",
                 "quantile", "huber", "tweedie")
STOPPING_METRICS = ("AUTO", "deviance", "logloss", "MSE", "RMSE", "MAE", "RMSLE", "AUC", "AUCPR",
                    "misclassification", "mean_per_class_error")
CLASSIFICATION_METRICS = frozenset({"logloss", "AUC", "AUCPR", "misclassification", "mean_per_class_error"})
ADAPTIVE_RATE_METHODS = ("ADADELTA", "Adam")
CATEGORICAL_ENCODINGS = ("AUTO", "OneHotInternal", "Binary", "Eigen", "LabelEncoder", "SortByResponse",
                         "EnumLimited")
# Enum values H2O accepts that mpidl does not implement yet: (parameter, value).
UNSUPPORTED_VALUES = frozenset([("categorical_encoding", v) for v in CATEGORICAL_ENCODINGS[2:]]
                               + [("score_validation_sampling", "Stratified")])
# Parameters whose value is accepted but has no effect yet: a note when the job sets them.
NOTES_WHEN_SET = {"variable_importances": "variable importances are not computed yet (parameter "
                                          "'variable_importances')"}
# Parameters H2O does not have (every other one is H2O's, with H2O's name and default).
MPIDL_EXTENSIONS = frozenset({"adaptive_rate_method", "adam_beta1", "adam_beta2",
                              "train_while_waiting", "checkpoint_interval"})

_GE0 = Range(0)
_GT0 = Range(0, lo_open=True)
_UNIT_OPEN = Range(0, 1, hi_open=True)   # [0, 1)
_UNIT = Range(0, 1)                       # [0, 1]


def _declare() -> tuple[Param, ...]:
    out: list[Param] = []
    group = ""

    def p(name, kind, default, doc, check=None, *, supported=True, note=""):
        out.append(Param(name, kind, default, doc, check, name not in _FIXED_ON_RESTART, supported, note, group))

    group = "Data and columns"
    p("model_id", "str", None, "Name of the model (free text, stored in the model file).")
    p("training_frame", "path", None, "Training data: an .h5 file from `mpidl import`, or a CSV (imported on the fly).",
      note="a file path; relative paths are looked up next to the job file first")
    p("validation_frame", "path", None, "Validation data (.h5 or CSV), scored after each iteration.")
    p("response_column", "str", None, "Name of the response column.")
    p("ignored_columns", "str_list", [], "Columns not used as predictors.")
    p("ignore_const_cols", "bool", True, "Drop constant columns.")
    p("weights_column", "str", None, "Column of per-row weights (0 drops a row).")
    p("offset_column", "str", None, "Offset column (regression only).", supported=False)
    p("nfolds", "int", 0, "Number of cross-validation folds (0 = none).", _GE0, supported=False)
    p("fold_assignment", "enum", "AUTO", "How rows are assigned to folds.", ("AUTO", "Random", "Modulo", "Stratified"),
      supported=False)
    p("fold_column", "str", None, "Column holding each row's fold number.", supported=False)
    p("keep_cross_validation_models", "bool", True, "Keep the fold models.", supported=False)
    p("keep_cross_validation_predictions", "bool", False, "Keep the fold predictions.", supported=False)
    p("keep_cross_validation_fold_assignment", "bool", False, "Keep the fold assignment.", supported=False)
    p("balance_classes", "bool", False, "Over/under-sample classes to balance them (classification).", supported=False)
    p("class_sampling_factors", "float_list", None, "Per-class sampling factors (needs balance_classes).", _GT0,
      supported=False)
    p("max_after_balance_size", "float", 5.0, "Max. relative size of the training data after balancing.", _GT0,
      supported=False)
    p("categorical_encoding", "enum", "AUTO", "Encoding of categorical columns; AUTO means OneHotInternal.",
      CATEGORICAL_ENCODINGS, note="only AUTO and OneHotInternal are implemented; Enum and OneHotExplicit are "
                                  "rejected as in H2O")
    p("max_categorical_features", "int", 2147483647, "Max. number of categorical features, enforced by hashing.",
      Range(1), supported=False)
    p("missing_values_handling", "enum", "MeanImputation", "Missing numeric values: impute the mean, or skip the row.",
      ("MeanImputation", "Skip"))
    p("use_all_factor_levels", "bool", True, "Use all levels of a categorical (else drop the first).")
    p("standardize", "bool", True, "Standardize numeric columns to mean 0, sd 1.")

    group = "Network"
    p("activation", "enum", "Rectifier", "Hidden-layer activation function.", ACTIVATIONS)
    p("hidden", "int_list", [200, 200], "Hidden layer sizes; [] means no hidden layer.", _GT0)
    p("input_dropout_ratio", "float", 0.0, "Fraction of inputs dropped per row (try 0.1 or 0.2).", _UNIT_OPEN)
    p("hidden_dropout_ratios", "float_list", None,
      "Per-layer hidden dropout (only with *WithDropout activations; default 0.5 each).", _UNIT_OPEN)
    p("initial_weight_distribution", "enum", "UniformAdaptive", "Initial weight distribution.",
      ("UniformAdaptive", "Uniform", "Normal"))
    p("initial_weight_scale", "float", 1.0, "Uniform range or normal sd of the initial weights (not UniformAdaptive).",
      _GE0)
    p("initial_weights", "str_list", None, "Frames with initial weight matrices, one per layer.", supported=False)
    p("initial_biases", "str_list", None, "Frames with initial bias vectors, one per layer.", supported=False)
    p("loss", "enum", "Automatic", "Loss function; Automatic follows the distribution.", LOSSES)
    p("distribution", "enum", "AUTO", "Response distribution; AUTO follows the response type and loss.", DISTRIBUTIONS)
    p("tweedie_power", "float", 1.5, "Tweedie power (tweedie distribution).", Range(1, 2, True, True))
    p("quantile_alpha", "float", 0.5, "Quantile (quantile distribution).", _UNIT)
    p("huber_alpha", "float", 0.9, "Quantile of absolute residuals that bounds the Huber loss.", _UNIT)
    p("autoencoder", "bool", False, "Train an autoencoder (no response).", supported=False)
    p("pretrained_autoencoder", "str", None, "Autoencoder model used to initialize the network.", supported=False)
    p("sparse", "bool", False, "Sparse input handling.", supported=False)
    p("sparsity_beta", "float", 0.0, "Sparsity regularization (autoencoder only).", supported=False)
    p("average_activation", "float", 0.0, "Target average activation for sparsity (autoencoder only).",
      supported=False)
    p("col_major", "bool", False, "Deprecated in H2O: column-major input; true is an error.")

    group = "Optimization"
    p("epochs", "float", 10.0, "Passes over the training data (may be fractional).", _GE0)
    p("train_samples_per_iteration", "int", -2,
      "Rows per MapReduce iteration: 0 = one epoch per rank, -1 = all data on every rank, -2 = auto-tune, >0 = rows.",
      Range(-2))
    p("target_ratio_comm_to_comp", "float", 0.05, "Target communication/computation ratio for auto-tuning (-2).", _GT0)
    p("seed", "int", -1, "Random seed; -1 draws one.")
    p("adaptive_rate", "bool", True, "Adaptive learning rate (ADADELTA, or Adam by `adaptive_rate_method`).")
    p("adaptive_rate_method", "enum", "ADADELTA", "The adaptive rule when adaptive_rate = true.",
      ADAPTIVE_RATE_METHODS, note="mpidl extension (H2O has ADADELTA only). `Adam` (Kingma & Ba) takes "
      "its step size from `rate` (annealed by `rate_annealing`, per layer by `rate_decay`), "
      "`adam_beta1`, `adam_beta2` and `epsilon`; it suits `mini_batch_size` > 1, e.g. rate = 0.001")
    p("adam_beta1", "float", 0.9, "Adam decay of the mean gradient.", _UNIT_OPEN, note="mpidl extension")
    p("adam_beta2", "float", 0.999, "Adam decay of the mean squared gradient.", _UNIT_OPEN,
      note="mpidl extension")
    p("rho", "float", 0.99, "ADADELTA decay (adaptive_rate).", _UNIT_OPEN)
    p("epsilon", "float", 1e-8, "ADADELTA (and Adam) smoothing (adaptive_rate).", _GT0)
    p("rate", "float", 0.005, "Learning rate (adaptive_rate = false; Adam's step size).", _GT0)
    p("rate_annealing", "float", 1e-6, "Learning rate annealing: rate / (1 + rate_annealing * samples).", _GE0)
    p("rate_decay", "float", 1.0, "Per-layer learning rate factor: layer k uses rate * rate_decay^(k-1).", _GE0)
    p("momentum_start", "float", 0.0, "Initial momentum (adaptive_rate = false).", _UNIT_OPEN)
    p("momentum_ramp", "float", 1e6, "Samples over which momentum ramps from start to stable.", _GT0)
    p("momentum_stable", "float", 0.0, "Final momentum.", _UNIT_OPEN)
    p("nesterov_accelerated_gradient", "bool", True, "Nesterov accelerated gradient (with momentum).")
    p("l1", "float", 0.0, "L1 regularization.", _GE0)
    p("l2", "float", 0.0, "L2 regularization.", _GE0)
    p("max_w2", "float", FLOAT_MAX, "Max. sum of squared incoming weights per unit (Float.MAX_VALUE = off).",
      Range(0, lo_open=True, allow_inf=True),
      note="as in H2O, Rectifier gets 1000 only if max_w2 = inf, so the limit is off by default")
    p("mini_batch_size", "int", 1, "Rows per mini-batch (1: online, one row at a time).", Range(1),
      note="mpidl extension: H2O forces 1; mpidl trains batches (batch-mean gradient, "
           "matrix-product kernels, Hogwild threads over batches)")
    p("fast_mode", "bool", True, "Skip the softmax-gradient terms of zero targets (minor approximation).")
    p("elastic_averaging", "bool", False, "Elastic averaging between ranks (EASGD).")
    p("elastic_averaging_moving_rate", "float", 0.9, "Elastic averaging moving rate.", _UNIT)
    p("elastic_averaging_regularization", "float", 1e-3, "Elastic averaging regularization strength.", _GE0)

    group = "Scoring and stopping"
    p("score_interval", "float", 5.0, "Min. seconds between scorings.", _GE0)
    p("score_training_samples", "int", 10000, "Training rows sampled for scoring (0 = all).", _GE0)
    p("score_validation_samples", "int", 0, "Validation rows sampled for scoring (0 = all).", _GE0)
    p("score_duty_cycle", "float", 0.1, "Max. fraction of time spent scoring.", _UNIT)
    p("score_each_iteration", "bool", False, "Score after every iteration.")
    p("score_validation_sampling", "enum", "Uniform", "Validation sampling method (classification).",
      ("Uniform", "Stratified"), note="only Uniform is implemented; Stratified is refused")
    p("classification_stop", "float", 0.0, "Stop when the training classification error is <= this (-1 = off).",
      Range(-1))
    p("regression_stop", "float", 1e-6, "Stop when the training MSE is <= this (-1 = off).", Range(-1))
    p("stopping_rounds", "int", 5, "Early stopping over this many scoring rounds (0 = off).", _GE0)
    p("stopping_metric", "enum", "AUTO", "Early-stopping metric; AUTO = logloss (classification), deviance "
      "(regression).", STOPPING_METRICS)
    p("stopping_tolerance", "float", 0.0, "Relative improvement required to keep going.", _GE0)
    p("max_runtime_secs", "float", 0.0, "Max. training time in seconds (0 = no limit).", _GE0)
    p("overwrite_with_best_model", "bool", True, "Keep the best scored model (validation if given) as the result.")
    p("max_confusion_matrix_size", "int", 20, "Max. classes shown in a confusion matrix.", Range(1))
    p("variable_importances", "bool", True, "Compute Gedeon variable importances.",
      note="not computed yet: a job that sets it to true gets a note saying so")
    p("diagnostics", "bool", True, "Deprecated in H2O: diagnostics are always on.")
    p("quiet_mode", "bool", False, "Print only the final line of a training run (and errors).")

    group = "Distribution over ranks"
    p("replicate_training_data", "bool", True, "Every rank holds all training rows (else a shard each).")
    p("single_node_mode", "bool", False,
      "With several ranks and replicated data, rank 0 alone trains (the others idle).")
    p("shuffle_training_data", "bool", False, "Shuffle the training rows on each rank.")
    p("force_load_balance", "bool", True, "Split rows evenly over threads.",
      note="accepted; mpidl always splits a rank's rows evenly over its threads")
    p("reproducible", "bool", False, "Bit-identical results for a given rank count: one thread per rank.")
    p("train_while_waiting", "bool", True,
      "With train_samples_per_iteration = -2 and several training ranks, a rank that finishes its "
      "share of an iteration early trains more rows of its data until the slowest rank is done.",
      note="mpidl extension: H2O's nodes wait for the slowest.  The extra rows are at most the "
           "rank's share again and never go past `epochs`, so an iteration may hold more rows "
           "than its train_samples_per_iteration")

    group = "Checkpoints and export"
    p("checkpoint", "path", None, "Model file to continue training from.",
      note="relative paths are looked up next to the job file first")
    p("export_checkpoints_dir", "path", None, "Directory where checkpoint models are written.",
      note="the finished model is written there as MODEL_ID.h5 (H2O); periodic checkpoints "
           "go next to the output model (`checkpoint_interval`)")
    p("checkpoint_interval", "float", -1.0,
      "Seconds of training between resumable checkpoints written next to the output model "
      "(STEM.ckpt-ITERATION.h5, the newest two kept); 0 = none, -1 = 300 under SLURM, else none.",
      Range(-1), note="mpidl extension")
    p("export_weights_and_biases", "bool", False, "Store weights and biases as frames.", supported=False)
    return tuple(out)


PARAMS: tuple[Param, ...] = _declare()
PARAM_BY_NAME: dict[str, Param] = {q.name: q for q in PARAMS}
DEFAULTS: dict[str, Any] = {q.name: q.default for q in PARAMS}
_PATH_PARAMS = ("training_frame", "validation_frame", "checkpoint")


# ---------------------------------------------------------------------------------------------
# formatting


def _fmt(x: float) -> str:
    """Short decimal form of a number: 1e-06 -> 1e-6, 10.0 -> 10."""
    if isinstance(x, bool):
        return "true" if x else "false"
    if isinstance(x, int):
        return str(x)
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return re.sub(r"e([+-])0*(\d)", lambda m: "e" + m.group(1).replace("+", "") + m.group(2), f"{x:.8g}")


def format_value(v: Any) -> str:
    """A value as a job file would spell it (strings quoted only inside lists)."""
    if v is None:
        return "none"
    if isinstance(v, (bool, int, float)):
        return _fmt(v)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(repr(e) if isinstance(e, str) else format_value(e) for e in v) + "]"
    return str(v)


def _show(v: Any) -> str:
    return repr(v) if isinstance(v, str) else format_value(v)


def _suggest(word: str, options: Iterable[str]) -> str:
    options = list(options)
    for o in options:
        if o.lower() == word.lower():
            return f"; did you mean '{o}'?"
    close = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""


# ---------------------------------------------------------------------------------------------
# type coercion


def _expect(q: Param) -> str:
    rng = f" {q.check}" if isinstance(q.check, Range) and str(q.check) else ""
    if q.kind == "enum":
        return "one of " + ", ".join(c for c in q.check if (q.name, c) not in UNSUPPORTED_VALUES)
    each = f" each{rng}" if rng else ""
    return {
        "int": f"an integer{rng}", "float": f"a number{rng}", "bool": "true or false",
        "str": "a string", "path": "a file path (string)",
        "int_list": f"a list of integers{each}", "float_list": f"a list of numbers{each}",
        "str_list": "a list of strings",
    }[q.kind]


def _is_num(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _to_int(v: Any) -> int | None:
    if isinstance(v, int) and not isinstance(v, bool):
        return v
    if isinstance(v, float) and v.is_integer():
        return int(v)
    return None


def _coerce(q: Param, v: Any) -> tuple[Any, str | None]:
    """(value, None) in the parameter's kind, or (None, hint) when the type is wrong."""
    if v is None:
        return (None, None) if q.default is None else (None, "")
    k = q.kind
    if k == "int":
        i = _to_int(v)
        return (i, None) if i is not None else (None, _quote_hint(v))
    if k == "float":
        return (float(v), None) if _is_num(v) else (None, _quote_hint(v))
    if k == "bool":
        if isinstance(v, bool):
            return v, None
        return None, ("; write true or false without quotes" if isinstance(v, str) and v.lower() in ("true", "false")
                      else "")
    if k in ("str", "path", "enum"):
        return (v, None) if isinstance(v, str) else (None, "")
    if not isinstance(v, (list, tuple)):
        ex = f"[{format_value(v)}]" if not isinstance(v, str) else f'["{v}"]'
        return None, f"; write {q.name} = {ex} (a list)"
    conv = {"int_list": _to_int, "float_list": lambda e: float(e) if _is_num(e) else None,
            "str_list": lambda e: e if isinstance(e, str) else None}[k]
    out = [conv(e) for e in v]
    return (out, None) if all(e is not None for e in out) else (None, "")


def _quote_hint(v: Any) -> str:
    if isinstance(v, str):
        try:
            float(v)
            return f"; write {v} without quotes"
        except ValueError:
            pass
    return ""


def _check_one(q: Param, v: Any, where: str) -> Any:
    """Coerce and range-check one value; raise UserError naming ``where`` and the parameter."""
    val, hint = _coerce(q, v)
    if hint is not None:
        raise UserError(f"{where}: parameter '{q.name}': expected {_expect(q)}, got {_show(v)}{hint}")
    if val is None:
        return None
    if q.kind == "enum":
        if val not in q.check:
            raise UserError(f"{where}: parameter '{q.name}': expected {_expect(q)}, got {_show(val)}"
                            f"{_suggest(val, q.check)}")
    elif isinstance(q.check, Range):
        items = val if isinstance(val, list) else [val]
        if any(not q.check.contains(float(e)) for e in items):
            raise UserError(f"{where}: parameter '{q.name}': expected {_expect(q)}, got {_show(val)}")
    if q.kind == "int" and not _INT64[0] <= val <= _INT64[1]:
        raise UserError(f"{where}: parameter '{q.name}': expected a 64-bit integer, got {val}")
    return val


_ALIASES = {"y": "response_column", "training_data": "training_frame",
            "validation_data": "validation_frame", "response": "response_column"}


def _unknown(name: str, where: str) -> UserError:
    hint = f"; did you mean '{_ALIASES[name]}'?" if name in _ALIASES else _suggest(name, PARAM_BY_NAME)
    return UserError(f"{where}: unknown parameter '{name}'{hint}")


# ---------------------------------------------------------------------------------------------
# Params


class Params(Mapping):
    """Immutable set of all parameters, in table order. ``p.hidden``, ``p["hidden"]``.

    ``Params(**values)`` fills in defaults and checks types (not ranges; see ``validate``).
    List values are handed out as fresh lists, so callers cannot change a Params.
    """

    __slots__ = ("_values",)

    def __init__(self, _source: str = "parameters", **values: Any) -> None:
        vals = dict(DEFAULTS)
        for name, v in values.items():
            q = PARAM_BY_NAME.get(name)
            if q is None:
                raise _unknown(name, _source)
            vals[name] = _check_type(q, v, _source)
        object.__setattr__(self, "_values", vals)

    @classmethod
    def _trusted(cls, vals: dict[str, Any]) -> Params:
        self = object.__new__(cls)
        object.__setattr__(self, "_values", vals)
        return self

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            v = self._values[name]
        except KeyError:
            raise AttributeError(f"no parameter '{name}'{_suggest(name, PARAM_BY_NAME)}") from None
        return list(v) if isinstance(v, list) else v

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("Params is immutable; use p.replace(name=value)")

    def __getitem__(self, name: str) -> Any:
        v = self._values[name]
        return list(v) if isinstance(v, list) else v

    def __iter__(self):
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        changed = ", ".join(f"{k}={_show(v)}" for k, v in self._values.items() if v != DEFAULTS[k])
        return f"Params({changed})"

    def __reduce__(self):
        return (Params._trusted, (self.to_dict(),))

    def to_dict(self) -> dict[str, Any]:
        """All parameters as a JSON-serializable dict (lists copied; max_w2 may be inf)."""
        return {k: (list(v) if isinstance(v, list) else v) for k, v in self._values.items()}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], source: str = "model file") -> Params:
        """Rebuild from ``to_dict()`` output (e.g. a model file). Missing keys take their default;
        unknown keys and wrong types raise UserError. Ranges are not checked: sanitized
        parameters (rate = 0 with adaptive_rate) are legal here."""
        return cls(source, **d)

    def replace(self, **changes: Any) -> Params:
        """A copy with some values changed (types checked, ranges not)."""
        vals = dict(self._values)
        for name, v in changes.items():
            q = PARAM_BY_NAME.get(name)
            if q is None:
                raise _unknown(name, "replace")
            vals[name] = _check_type(q, v, "replace")
        return Params._trusted(vals)


def _check_type(q: Param, v: Any, where: str) -> Any:
    val, hint = _coerce(q, v)
    if hint is not None:
        raise UserError(f"{where}: parameter '{q.name}': expected {_expect(q)}, got {_show(v)}{hint}")
    return val


# ---------------------------------------------------------------------------------------------
# validation


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
            raise _unknown(name, where(name))
    vals = dict(DEFAULTS)
    for name, v in raw.items():
        q = PARAM_BY_NAME[name]
        val = _check_one(q, v, where(name))
        if not q.supported and val != q.default:
            raise UserError(f"{where(name)}: parameter '{name}' is not supported by mpidl yet"
                            f" (leave it at its default, {format_value(q.default)})")
        if q.kind == "enum" and (name, val) in UNSUPPORTED_VALUES:
            raise UserError(f"{where(name)}: parameter '{name}': value '{val}' is not supported by mpidl yet; "
                            f"use {_expect(q)}")
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
    if vals["validation_frame"] == "":
        vals["validation_frame"] = None
    return Params._trusted(vals)


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


def resolve_stopping_metric(p: Params, is_classification: bool) -> str:
    """The metric that stopping_metric = AUTO means (H2O ScoreKeeper): logloss for
    classification, MSE for an autoencoder, deviance for regression."""
    if p.stopping_metric != "AUTO":
        return p.stopping_metric
    if p.autoencoder:
        return "MSE"
    return "logloss" if is_classification else "deviance"


# ---------------------------------------------------------------------------------------------
# sanitization (H2O Sanity.modifyParms)

_AUTO_DIST_BY_LOSS = {"Automatic": "gaussian", "Quadratic": "gaussian", "Absolute": "laplace",
                      "Quantile": "quantile", "Huber": "huber"}
_AUTO_LOSS_BY_DIST = {"gaussian": "Quadratic", "laplace": "Absolute", "quantile": "Quantile", "huber": "Huber",
                      "bernoulli": "CrossEntropy", "multinomial": "CrossEntropy",
                      "poisson": "Automatic", "gamma": "Automatic", "tweedie": "Automatic"}


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
        unused = _MOMENTUM_ONLY if adam else _MANUAL_ONLY
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
        if is_classification:
            dist = "bernoulli" if nclasses == 2 else "multinomial"
            set_("distribution", dist, f"AUTO with {nclasses} classes")
        else:
            if v["loss"] not in _AUTO_DIST_BY_LOSS:
                raise UserError(f"parameter 'loss': {v['loss']} is not allowed for regression")
            set_("distribution", _AUTO_DIST_BY_LOSS[v["loss"]], f"AUTO with {v['loss']} loss")
    if v["loss"] == "Automatic":
        set_("loss", _AUTO_LOSS_BY_DIST[v["distribution"]], f"Automatic for {v['distribution']}")
    if v["reproducible"]:
        set_("force_load_balance", True, "reproducible")
        set_("single_node_mode", False, "reproducible")
        set_("score_each_iteration", True, "reproducible")
        if v["train_samples_per_iteration"] == -2:
            set_("train_samples_per_iteration", -1, "reproducible: no auto-tuning")
    return Params._trusted(v), notes


# ---------------------------------------------------------------------------------------------
# checkpoint restart (H2O Sanity.checkpoint / Sanity.update)

_ADAPTIVE_ONLY = ("rho", "epsilon")
_MOMENTUM_ONLY = ("momentum_start", "momentum_ramp", "momentum_stable")
_MANUAL_ONLY = ("rate", "rate_annealing", "rate_decay") + _MOMENTUM_ONLY
_ADAM_ONLY = ("adam_beta1", "adam_beta2")


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
            skip.update(_ADAPTIVE_ONLY + _ADAM_ONLY + ("adaptive_rate_method",))
        elif old.adaptive_rate_method == new.adaptive_rate_method == "Adam":
            skip.update(_MOMENTUM_ONLY + ("rho",))
        elif old.adaptive_rate_method == new.adaptive_rate_method:
            skip.update(_MANUAL_ONLY + _ADAM_ONLY)
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


# ---------------------------------------------------------------------------------------------
# job files


def _toml_line(err: Exception) -> str:
    m = re.search(r"at line (\d+)", str(err))
    return f"line {m.group(1)}" if m else "somewhere"


def parse_override(item: str) -> tuple[str, Any]:
    """``key=value`` as ``--set`` takes it: (parameter name, TOML value); UserError if bad."""
    key, sep, text = item.partition("=")
    key = key.strip()
    if not sep or not key:
        raise UserError(f"--set '{item}': expected key=value, e.g. --set epochs=5")
    q = PARAM_BY_NAME.get(key)
    if q is None:
        raise _unknown(key, "--set")
    text = text.strip()
    if text == "" and q.default is None:
        return key, None
    try:
        value = tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        if text.startswith(("[", "{", '"', "'")):
            raise UserError(f"--set: parameter '{key}': {text} is not a valid TOML value "
                            "(an unclosed bracket or quote?)") from None
        if q.kind == "str_list":
            return key, [s.strip() for s in text.split(",")]
        return key, text
    if q.kind in ("str", "path", "enum") and not isinstance(value, str):
        return key, text  # a model_id like 2024-01-01 is text, not a TOML date
    return key, value


def _resolve_path(value: Any, first: str, second: str) -> Any:
    if not isinstance(value, str) or value == "" or os.path.isabs(value):
        return value
    for base in (first, second):
        cand = os.path.normpath(os.path.join(base, value))
        if os.path.exists(cand):
            return cand if base != "." else value
    return value


def load_job(path: str, overrides: Iterable[str] = (), notes: list[str] | None = None) -> Params:
    """Read a TOML job file (top-level keys = H2O parameter names), apply ``--set key=value``
    overrides (values are TOML; a bare word or path is taken as text), validate.  ``notes``,
    when given, receives one line per parameter the job sets that has no effect yet
    (``NOTES_WHEN_SET``; set to true).

    Relative training_frame / validation_frame / checkpoint paths from the file are looked up
    next to the job file first, then in the current directory; paths from ``--set`` are looked
    up in the current directory first. ``--set name=`` (empty) unsets an optional parameter.
    """
    try:
        with open(path, "rb") as fh:
            raw = tomllib.load(fh)
    except FileNotFoundError:
        raise UserError(f"{path}: job file not found") from None
    except IsADirectoryError:
        raise UserError(f"{path}: is a directory, not a job file") from None
    except UnicodeDecodeError as e:
        raise UserError(f"{path}: not a UTF-8 text file ({e.reason})") from None
    except tomllib.TOMLDecodeError as e:
        msg = re.sub(r"\s*\(at line \d+, column \d+\)", "", str(e))
        col = re.search(r"column (\d+)", str(e))
        raise UserError(f"{path}: {_toml_line(e)}: invalid TOML: {msg}"
                        f"{' (column ' + col.group(1) + ')' if col else ''}") from None
    jobdir = os.path.dirname(path) or "."
    for name in _PATH_PARAMS:
        if name in raw:
            raw[name] = _resolve_path(raw[name], jobdir, ".")
    origins: dict[str, str] = {}
    for item in overrides:
        key, value = parse_override(item)
        if key in _PATH_PARAMS:
            value = _resolve_path(value, ".", jobdir)
        raw[key] = value
        origins[key] = "--set"
    params = validate(raw, path, origins)
    if notes is not None:
        notes.extend(line for name, line in NOTES_WHEN_SET.items() if raw.get(name) is True)
    return params


# ---------------------------------------------------------------------------------------------
# documentation


def origin(q: Param) -> str:
    """Where parameter ``q`` comes from: H2O's, an mpidl extension, or H2O's not yet supported."""
    if q.name in MPIDL_EXTENSIONS:
        return "mpidl extension"
    return "H2O" if q.supported else "H2O, not supported yet"


def describe_markdown() -> str:
    """docs/parameters.md: one table per group, then the automatic rewrites and restart rules."""
    lines = [
        "# Parameters",
        "",
        "<!-- generated by `python -m mpidl.params > docs/parameters.md`; edit mpidl/params.py instead -->",
        "",
        "A job file is TOML whose top-level keys are these names (H2O-3 Deep Learning's names and defaults);",
        "`--set name=value` overrides a key (the value is TOML; a bare word such as `Tanh` or a path is text;",
        "`--set name=` unsets an optional parameter). Enum values are case-sensitive, spelled as in H2O.",
        "Parameters marked *not yet* are accepted only at their default value.",
        "",
        "Restart: *yes* means the value may change when continuing from a `checkpoint`.",
        "Origin: *H2O* (H2O-3's parameter, its name and default), *mpidl extension* (H2O has no",
        "such parameter), or *H2O, not supported yet* (accepted only at its default).",
        "",
    ]
    groups: dict[str, list[Param]] = {}
    for q in PARAMS:
        groups.setdefault(q.group, []).append(q)
    for group, qs in groups.items():
        lines += [f"## {group}", "", "| name | origin | default | meaning | restart | mpidl notes |",
                  "|---|---|---|---|---|---|"]
        for q in qs:
            meaning = q.doc
            if q.kind == "enum":
                meaning += " One of: " + ", ".join(f"`{c}`" for c in q.check) + "."
            elif isinstance(q.check, Range) and str(q.check):
                meaning += f" Range: {'each ' if q.kind.endswith('list') else ''}{q.check}."
            default = "*required*" if q.name in ("training_frame", "response_column") else (
                "not set" if q.default is None else f"`{format_value(q.default)}`")
            if q.name == "max_w2":
                default = "`3.4028235e38` (Float.MAX_VALUE)"
            note = (("**not yet** (only the default is accepted). " if not q.supported else "") + q.note).strip()
            lines.append(f"| `{q.name}` | {origin(q)} | {default} | {meaning.replace('|', '/')} | "
                         f"{'yes' if q.modifiable_on_checkpoint else 'no'} | {note.replace('|', '/')} |")
        lines.append("")
    lines += [
        "## Automatic rewrites (H2O `modifyParms`)",
        "",
        "Before training, mpidl rewrites its private copy of the parameters as H2O does. It prints a note",
        "for a change to a value the job set (one that differs from H2O's default) and for the loss and",
        "distribution that AUTO / Automatic chose, not for the others:",
        "",
        "- `hidden_dropout_ratios` unset with a *WithDropout activation: 0.5 for every hidden layer.",
        "- One rank: `replicate_training_data = false`; `single_node_mode` needs several ranks and replication.",
        "- `categorical_encoding = AUTO` becomes `OneHotInternal`.",
        "- `adaptive_rate = true`: `rate`, `rate_annealing`, `rate_decay`, `momentum_*` are set to 0;",
        "  otherwise `rho` and `epsilon` are set to 0. With `adaptive_rate_method = Adam` (an mpidl",
        "  extension) `rate`, `rate_annealing`, `rate_decay` and `epsilon` stay (Adam uses them) and",
        "  `rho`, `momentum_*` are set to 0; without Adam, `adam_beta1` and `adam_beta2` are set to 0.",
        "- `max_w2` becomes 1000 for Rectifier activations only if it is `inf`. The default is Float.MAX_VALUE,",
        "  not `inf`, so the limit stays off by default (H2O's behaviour, kept on purpose).",
        "- `distribution = AUTO`: 2 classes -> `bernoulli`, more -> `multinomial`; regression by loss:",
        "  Automatic/Quadratic -> `gaussian`, Absolute -> `laplace`, Quantile -> `quantile`, Huber -> `huber`.",
        "- `loss = Automatic`: gaussian -> Quadratic, laplace -> Absolute, quantile -> Quantile, huber -> Huber,",
        "  bernoulli/multinomial -> CrossEntropy; poisson/gamma/tweedie keep Automatic (deviance gradient).",
        "- `reproducible = true`: `score_each_iteration = true`, `replicate_training_data = false`,",
        "  `single_node_mode = false`, and `train_samples_per_iteration = -2` becomes -1.",
        "- Unlike H2O, `mini_batch_size` is not forced to 1.",
        "- `stopping_metric = AUTO` means logloss for classification and deviance for regression.",
        "",
        "## Checks",
        "",
        "- Classification allows loss Automatic, CrossEntropy or Quadratic and distribution AUTO, bernoulli",
        "  (2 classes) or multinomial. Regression forbids CrossEntropy, bernoulli and multinomial;",
        "  poisson/gamma/tweedie need loss Automatic; laplace, quantile and huber allow Automatic or their own loss.",
        "- `hidden_dropout_ratios` needs a *WithDropout activation and one ratio per hidden layer.",
        "- On restart, every parameter marked *no* must equal the checkpoint's, the validation frame must be",
        "  present in both or neither, and `epochs` must exceed the epochs already trained.",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    print(describe_markdown(), end="")
