"""Every H2O Deep Learning parameter, declared once as data.

``PARAMS`` is the table, in the order docs/parameters.md shows it: name, kind, H2O's default, a
one-line meaning, the allowed range or choices, whether the value may change on a checkpoint
restart, whether mpidl implements it, and how mpidl differs from H2O.  The enum choices, the
values and parameters mpidl refuses or notes, and the optimizer-only groups live here too;
every other module of ``mpidl.params`` reads them from here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable

from .text import format_number

FLOAT_MAX = 3.4028234663852886e38  # Java Float.MAX_VALUE, H2O's max_w2 default ("off")

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
            lo, hi = format_number(self.lo), format_number(self.hi)
            return f"in {'(' if self.lo_open else '['}{lo}, {hi}{')' if self.hi_open else ']'}"
        if self.lo is not None:
            return f"{'>' if self.lo_open else '>='} {format_number(self.lo)}"
        if self.hi is not None:
            return f"{'<' if self.hi_open else '<='} {format_number(self.hi)}"
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
    hidden ignored_columns categorical_encoding max_categorical_levels adaptive_rate_method adam_beta1 adam_beta2""".split())

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
UNSUPPORTED_VALUES = frozenset([("score_validation_sampling", "Stratified")])
# Parameters whose value is accepted but has no effect yet: a note when the job sets them.
NOTES_WHEN_SET: dict[str, str] = {}
# Parameters H2O does not have (every other one is H2O's, with H2O's name and default).
MPIDL_EXTENSIONS = frozenset({"max_categorical_levels", "adaptive_rate_method", "adam_beta1",
                              "adam_beta2", "train_while_waiting", "checkpoint_interval",
                              "node_shared_model", "averaging_overlap", "hidden_dropout_masks"})

# Parameters that only one optimizer uses: sanitize zeroes them for the others, and the
# restart check does not compare them when both runs use another optimizer.
ADAPTIVE_ONLY = ("rho", "epsilon")
MOMENTUM_ONLY = ("momentum_start", "momentum_ramp", "momentum_stable")
MANUAL_ONLY = ("rate", "rate_annealing", "rate_decay") + MOMENTUM_ONLY
ADAM_ONLY = ("adam_beta1", "adam_beta2")

_GE0 = Range(0)
_GT0 = Range(0, lo_open=True)
_UNIT_OPEN = Range(0, 1, hi_open=True)   # [0, 1)
_UNIT = Range(0, 1)                       # [0, 1]


def _declarer(out: list[Param], group: str) -> Callable[..., None]:
    """``p(name, kind, default, doc, check=None, *, supported=True, note="")``: appends one
    ``Param`` of ``group`` to ``out``; restart-modifiable unless H2O fixes it on restart."""

    def p(name, kind, default, doc, check=None, *, supported=True, note=""):
        out.append(Param(name, kind, default, doc, check, name not in _FIXED_ON_RESTART, supported, note, group))

    return p


def _data_and_columns(out: list[Param]) -> None:
    """The parameters of docs/parameters.md's section "Data and columns", appended to ``out``."""
    p = _declarer(out, "Data and columns")
    p("model_id", "str", None, "Name of the model (free text, stored in the model file).")
    p("training_frame", "path", None, "Training data: an .h5 file from `mpidl import`, or a CSV (imported on the fly).",
      note="a file path; relative paths are looked up next to the job file first")
    p("validation_frame", "path", None, "Validation data (.h5 or CSV), scored after each iteration.")
    p("response_column", "str", None, "Name of the response column.")
    p("ignored_columns", "str_list", [], "Columns not used as predictors.")
    p("ignore_const_cols", "bool", True, "Drop constant columns.")
    p("weights_column", "str", None, "Column of per-row weights (0 drops a row).")
    p("offset_column", "str", None, "Numeric column added to the output in link space (regression only); not a predictor.")
    p("nfolds", "int", 0, "Number of cross-validation folds (0 = none; else >= 2).", _GE0)
    p("fold_assignment", "enum", "AUTO", "How rows are assigned to folds (AUTO = Random).",
      ("AUTO", "Random", "Modulo", "Stratified"))
    p("fold_column", "str", None, "Column holding each row's fold (its distinct values are the folds).")
    p("keep_cross_validation_models", "bool", True, "Keep the fold models (MODEL_cv_K.h5 beside the model).")
    p("keep_cross_validation_predictions", "bool", False,
      "Keep the holdout predictions (MODEL_cv_holdout_predictions.csv beside the model).")
    p("keep_cross_validation_fold_assignment", "bool", False,
      "Keep the fold assignment (MODEL_cv_fold_assignment.csv beside the model).")
    p("balance_classes", "bool", False, "Over/under-sample classes to balance them (classification).",
      note="each rank samples its rows from the global class counts; probabilities are corrected back "
           "when scoring, as in H2O")
    p("class_sampling_factors", "float_list", None, "Per-class sampling factors (needs balance_classes).", _GT0,
      note="one factor per response level, in the levels' order")
    p("max_after_balance_size", "float", 5.0, "Max. relative size of the training data after balancing.", _GT0)
    p("categorical_encoding", "enum", "AUTO", "Encoding of categorical columns; AUTO means OneHotInternal.",
      CATEGORICAL_ENCODINGS, note="Eigen projects onto the leading eigenvector of the one-hot covariance; "
                                  "Enum and OneHotExplicit are rejected as in H2O; the encoding computed "
                                  "on the training frame is applied to every later frame (docs/quirks.md)")
    p("max_categorical_levels", "int", 10, "EnumLimited: levels kept per categorical column (the most frequent).",
      Range(1), note="mpidl extension: H2O's Deep Learning fixes it at 10 (Model.Parameters' default)")
    p("max_categorical_features", "int", 2147483647, "Max. number of categorical features, enforced by hashing.",
      Range(1), note="H2O's hashing trick (MurmurHash2 of each one-hot slot, seeded with the model's seed); "
                     "refused for an autoencoder")
    p("missing_values_handling", "enum", "MeanImputation", "Missing numeric values: impute the mean, or skip the row.",
      ("MeanImputation", "Skip"))
    p("use_all_factor_levels", "bool", True, "Use all levels of a categorical (else drop the first).")
    p("standardize", "bool", True, "Standardize numeric columns to mean 0, sd 1.")


def _network(out: list[Param]) -> None:
    """The parameters of docs/parameters.md's section "Network", appended to ``out``."""
    p = _declarer(out, "Network")
    p("activation", "enum", "Rectifier", "Hidden-layer activation function.", ACTIVATIONS)
    p("hidden", "int_list", [200, 200], "Hidden layer sizes; [] means no hidden layer.", _GT0)
    p("input_dropout_ratio", "float", 0.0, "Fraction of inputs dropped per row (try 0.1 or 0.2).", _UNIT_OPEN)
    p("hidden_dropout_ratios", "float_list", None,
      "Per-layer hidden dropout (only with *WithDropout activations; default 0.5 each).", _UNIT_OPEN)
    p("hidden_dropout_masks", "enum", "SameSeed",
      "How a row's hidden dropout masks are drawn: SameSeed (every hidden layer restarts the row's "
      "random stream, so layers of equal width drop the same units), or Independent per layer.",
      ("SameSeed", "Independent"),
      note="mpidl extension: SameSeed is H2O-3's behaviour (one seed per row for every hidden "
           "layer), Independent the textbook one; SameSeed matched H2O's test metrics and "
           "Independent did not (docs/quirks.md, RESULTS.md parity-sameseed17)")
    p("initial_weight_distribution", "enum", "UniformAdaptive", "Initial weight distribution.",
      ("UniformAdaptive", "Uniform", "Normal"))
    p("initial_weight_scale", "float", 1.0, "Uniform range or normal sd of the initial weights (not UniformAdaptive).",
      _GE0)
    p("initial_weights", "str_list", None, "Frames (.h5 or CSV) with initial weight matrices, one per weight layer (\"\" keeps it random).")
    p("initial_biases", "str_list", None, "Frames (.h5 or CSV) with initial bias vectors, one per weight layer (\"\" keeps it random).")
    p("loss", "enum", "Automatic", "Loss function; Automatic follows the distribution.", LOSSES)
    p("distribution", "enum", "AUTO", "Response distribution; AUTO follows the response type and loss.", DISTRIBUTIONS)
    p("tweedie_power", "float", 1.5, "Tweedie power (tweedie distribution).", Range(1, 2, True, True))
    p("quantile_alpha", "float", 0.5, "Quantile (quantile distribution).", _UNIT)
    p("huber_alpha", "float", 0.9, "Quantile of absolute residuals that bounds the Huber loss.", _UNIT)
    p("autoencoder", "bool", False, "Train an autoencoder (no response).",
      note="Maxout and MaxoutWithDropout are refused (H2O refuses Maxout; its MaxoutWithDropout "
           "autoencoder has mismatched output shapes).")
    p("pretrained_autoencoder", "path", None, "Autoencoder model used to initialize the network.",
      note="An mpidl autoencoder model file (.h5); same inputs and hidden layers, checked.")
    p("sparse", "bool", False, "Sparse input handling.",
      note="H2O's DESCALE: with standardize, numeric inputs are divided by their sd but not "
           "mean-shifted, so zeros stay zero and fast_mode's training touches only a row's "
           "non-zero inputs; a missing value gives mean / sd.  Refused with "
           "elastic_averaging (as H2O).")
    p("sparsity_beta", "float", 0.0, "Sparsity regularization (autoencoder only).", _GE0,
      note="Tanh only. The pull is added to the hidden biases' gradient (H2O subtracts rate "
           "times it after the update: the same step under a manual rate); each rank keeps "
           "its own running means.")
    p("average_activation", "float", 0.0, "Target average activation for sparsity (autoencoder only).")
    p("col_major", "bool", False, "Deprecated in H2O: column-major input; true is an error.")


def _optimization(out: list[Param]) -> None:
    """The parameters of docs/parameters.md's section "Optimization", appended to ``out``."""
    p = _declarer(out, "Optimization")
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


def _scoring_and_stopping(out: list[Param]) -> None:
    """The parameters of docs/parameters.md's section "Scoring and stopping", appended to ``out``."""
    p = _declarer(out, "Scoring and stopping")
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
      note="computed as H2O does (first two weight layers, float32) from the weights the model "
      "file holds; shown by `inspect`, `plot` and `report`")
    p("diagnostics", "bool", True, "Deprecated in H2O: diagnostics are always on.")
    p("quiet_mode", "bool", False, "Print only the final line of a training run (and errors).")


def _distribution_over_ranks(out: list[Param]) -> None:
    """The parameters of docs/parameters.md's section "Distribution over ranks", appended to ``out``."""
    p = _declarer(out, "Distribution over ranks")
    p("replicate_training_data", "bool", True, "Every rank holds all training rows (else a shard each).")
    p("single_node_mode", "bool", False,
      "With several ranks and replicated data, rank 0 alone trains (the others idle).")
    p("shuffle_training_data", "bool", False, "Shuffle the training rows on each rank.")
    p("force_load_balance", "bool", True, "Split rows evenly over threads.",
      note="accepted; mpidl always splits a rank's rows evenly over its threads")
    p("reproducible", "bool", False, "Bit-identical results for a given rank count: one thread per rank.")
    p("node_shared_model", "bool", False,
      "The ranks of a node train one model in shared memory (Hogwild across processes); only "
      "one leader rank per node takes part in the model average.",
      note="mpidl extension (H2O's node: one JVM whose threads share a model); faster for "
           "large models and fewer, fuller models to average (benchmarks/RESULTS.md, "
           "node_model).  Refused with reproducible or elastic_averaging")
    p("train_while_waiting", "bool", True,
      "With train_samples_per_iteration = -2 and several training ranks, a rank that finishes its "
      "share of an iteration early trains more rows of its data until the slowest rank is done.",
      note="mpidl extension: H2O's nodes wait for the slowest.  The extra rows are at most the "
           "rank's share again and never go past `epochs`, so an iteration may hold more rows "
           "than its train_samples_per_iteration")
    p("averaging_overlap", "bool", False,
      "Average the ranks' models without stopping training: each iteration's average is "
      "computed while the next iteration trains, then folded in with the progress made meanwhile.",
      note="mpidl extension (delayed averaging, as DaSGD and Overlap Local-SGD): a rank's model "
           "becomes mean(snapshots) + (model - own snapshot) one iteration late; the ranks hold "
           "one model again before every scoring, checkpoint and the end.  Works with "
           "elastic_averaging; refused with single_node_mode (nothing to average) and "
           "reproducible (the ranks meet at each scoring, whose times vary)")


def _checkpoints_and_export(out: list[Param]) -> None:
    """The parameters of docs/parameters.md's section "Checkpoints and export", appended to ``out``."""
    p = _declarer(out, "Checkpoints and export")
    p("checkpoint", "path", None, "Model file to continue training from.",
      note="relative paths are looked up next to the job file first")
    p("export_checkpoints_dir", "path", None, "Directory where checkpoint models are written.",
      note="the finished model is written there as MODEL_ID.h5 (H2O); periodic checkpoints "
           "go next to the output model (`checkpoint_interval`)")
    p("checkpoint_interval", "float", -1.0,
      "Seconds of training between resumable checkpoints written next to the output model "
      "(STEM.ckpt-ITERATION.h5, the newest two kept); 0 = none, -1 = 300 under SLURM, else none.",
      Range(-1), note="mpidl extension")
    p("export_weights_and_biases", "bool", False, "Store weights and biases as frames.",
      note="the model file keeps them as tables weights_L / biases_L; "
           "`mpidl export MODEL --weights DIR` writes CSV and .npy")


def _declare() -> tuple[Param, ...]:
    """The whole table, group by group in the order of docs/parameters.md."""
    out: list[Param] = []
    for declare_group in (_data_and_columns, _network, _optimization, _scoring_and_stopping,
                          _distribution_over_ranks, _checkpoints_and_export):
        declare_group(out)
    return tuple(out)


PARAMS: tuple[Param, ...] = _declare()
PARAM_BY_NAME: dict[str, Param] = {q.name: q for q in PARAMS}
DEFAULTS: dict[str, Any] = {q.name: q.default for q in PARAMS}
