"""The Python API: ``DeepLearningEstimator``, with the names H2O's Python client uses
(``train``, ``predict``, ``model_performance``, ``scoring_history``, ``varimp``) and
scikit-learn's (``fit``, ``predict``, ``predict_proba``, ``score``, ``get_params``,
``set_params``).

Keyword arguments are H2O's parameter names, validated by the same rules as a job file when
a model is trained.  Training runs the train-one-model step of ``mpidl train``
(``train/loop.py: train``) in this process: on one rank, or on every rank when the script
itself runs under ``mpirun`` (every rank must then make the same calls; every rank gets the
model and the same results).

``predict`` follows the method that trained the model: after ``train`` it gives H2O's
prediction frame (a pandas DataFrame: ``predict``, then one probability column per class);
after ``fit`` it gives scikit-learn's 1-D array of labels (as ``y`` had them) or values.
With ``fit``, a ``y`` of floats means regression and any other ``y`` (integers, strings,
booleans) classification, unless ``distribution`` says which; H2O's ``train`` follows the
response column's type as ``mpidl train`` does.
"""

from __future__ import annotations

import inspect
import os
import sys
import tempfile

import numpy as np

from .api_frames import as_table, column_names, write_frame
from .errors import UserError
from .params import DEFAULTS, PARAM_BY_NAME, PARAMS, validate
from .params.text import did_you_mean

_CLASSIFYING = ("bernoulli", "multinomial")
_CV_FILES = ("keep_cross_validation_predictions", "keep_cross_validation_fold_assignment")
_SOURCE = "DeepLearningEstimator"


def _threads() -> int:
    """Hogwild threads for this process: numba's count when numba is already loaded (it is
    fixed at its import), else the command line's rule (``threads.configure_threads``)."""
    if "numba" in sys.modules:
        import numba
        return int(numba.config.NUMBA_NUM_THREADS)
    from .threads import configure_threads
    return configure_threads(None)[0]


def _world():
    from .comm import world
    return world()


class DeepLearningEstimator:
    """H2O's Deep Learning as a Python object; see the module docstring."""

    def __init__(self, **params):
        for name in params:
            if name not in PARAM_BY_NAME:
                raise TypeError(f"{_SOURCE}: unknown parameter '{name}'"
                                f"{did_you_mean(name, PARAM_BY_NAME)}")
        for q in PARAMS:
            setattr(self, q.name, params.get(q.name, DEFAULTS[q.name]))

    # ------------------------------------------------------------ parameters
    def get_params(self, deep: bool = True) -> dict:
        """Every parameter's value (scikit-learn's ``get_params``)."""
        return {q.name: getattr(self, q.name) for q in PARAMS}

    def set_params(self, **params) -> DeepLearningEstimator:
        """Set parameters by H2O name (scikit-learn's ``set_params``)."""
        for name, value in params.items():
            if name not in PARAM_BY_NAME:
                raise ValueError(f"{_SOURCE}: unknown parameter '{name}'"
                                 f"{did_you_mean(name, PARAM_BY_NAME)}")
            setattr(self, name, value)
        return self

    def __repr__(self) -> str:
        changed = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items()
                            if v != DEFAULTS[k])
        return f"{type(self).__name__}({changed})"

    def __sklearn_tags__(self):
        from sklearn.utils import Tags, TargetTags
        return Tags(estimator_type=None, target_tags=TargetTags(required=True),
                    input_tags=_input_tags(), transformer_tags=None, classifier_tags=None,
                    regressor_tags=None)

    # ------------------------------------------------------------ H2O's client
    def train(self, x=None, y=None, training_frame=None, validation_frame=None,
              weights_column=None) -> DeepLearningEstimator:
        """Train on ``training_frame`` (a table or CSV path, a DataFrame or a 2-D array);
        ``y`` the response column (name or index), ``x`` the predictor columns (names or
        indexes; default: all others)."""
        frame = self.training_frame if training_frame is None else training_frame
        if frame is None:
            raise ValueError(f"{_SOURCE}.train: no training_frame")
        with tempfile.TemporaryDirectory(prefix="mpidl-api-") as tmp:
            path = as_table(frame, tmp, "train")
            names = _table_names(path)
            response = _column_name(names, self.response_column if y is None else y)
            predictors = names if x is None else [_column_name(names, c) for c in x]
            raw = {"training_frame": path, "response_column": response,
                   "ignored_columns": [n for n in names if n not in predictors
                                       and n != response and n != weights_column]}
            if weights_column is not None:
                raw["weights_column"] = weights_column
            if validation_frame is not None:
                raw["validation_frame"] = as_table(validation_frame, tmp, "valid")
            self._train(raw, tmp)
        self._fitted_by = "train"
        return self

    def model_performance(self, test_data=None, train: bool = False, valid: bool = False,
                          xval: bool = False):
        """H2O's metrics (a dict of H2O's names) on ``test_data``, or the model's training
        (``train=True``, the default without data), validation or cross-validation metrics."""
        model = self._trained()
        if test_data is None:
            if xval:
                return dict(model.cross_validation_metrics)
            return dict(model.validation_metrics if valid and not train
                        else model.training_metrics)
        from .train.evaluate import score
        from .train.setup import frame_score_set
        comm = _world()
        with tempfile.TemporaryDirectory(prefix="mpidl-api-") as tmp:
            path = self._scoring_table(test_data, tmp)
            rows = _user_errors(frame_score_set, model, path, comm)
            out = model.raw_output(rows.nums, rows.cats, _threads(), off=rows.off)
            return score(model, rows, out, comm)

    def scoring_history(self):
        """The scoring history as a pandas DataFrame (H2O's column names)."""
        import pandas as pd
        return pd.DataFrame(self._trained().history)

    def varimp(self, use_pandas: bool = False):
        """H2O's variable importance table: (variable, relative_importance, scaled_importance,
        percentage) tuples, most important first, or a pandas DataFrame with ``use_pandas``;
        None (with H2O's warning) for a model trained with ``variable_importances=False``."""
        from .report import importance_rows
        rows = importance_rows(self._trained())
        if rows is None:
            print("Warning: This model doesn't have variable importances")
            return None
        if use_pandas:
            import pandas as pd
            return pd.DataFrame(rows)
        return [tuple(r.values()) for r in rows]

    # ------------------------------------------------------------ scikit-learn
    def fit(self, X, y, sample_weight=None) -> DeepLearningEstimator:
        """Train on ``X`` (rows x features) and ``y`` (one value per row)."""
        X = _sklearn_X(X)
        y = _sklearn_y(y, len(X), sample_weight)
        names = column_names(X)
        target = _unique("response", names)
        classify = (self.distribution in _CLASSIFYING if self.distribution != "AUTO"
                    else y.dtype.kind != "f")
        cols = {n: np.asarray(_column_values(X, j)) for j, n in enumerate(names)}
        cols[target] = y
        weight = None
        if sample_weight is not None:
            weight = _unique("weight", names + [target])
            cols[weight] = np.asarray(sample_weight, dtype=np.float64)
        import pandas as pd
        with tempfile.TemporaryDirectory(prefix="mpidl-api-") as tmp:
            path = write_frame(pd.DataFrame(cols), os.path.join(tmp, "train.h5"),
                               categorical=[target] if classify else [])
            raw = {"training_frame": path, "response_column": target}
            if weight:
                raw["weights_column"] = weight
            self._train(raw, tmp)
        self.n_features_in_ = len(names)
        self._fit_columns = names
        if hasattr(X, "columns"):
            self.feature_names_in_ = np.asarray(names, dtype=object)
        if classify:
            self.classes_ = np.unique(y)
        self._fitted_by = "fit"
        return self

    def predict(self, X):
        """After ``train``: H2O's prediction frame (pandas).  After ``fit``: labels or
        values, 1-D."""
        model = self._trained()
        labels, probs = self._predictions(X)
        if self._fitted_by == "fit":
            return self.classes_[labels] if model.dinfo.classification else labels
        import pandas as pd
        from .predict_columns import scoring_names
        cols = scoring_names(model.dinfo.response_domain if model.dinfo.classification
                             else None)
        if probs is None:
            return pd.DataFrame({cols[0]: labels})
        frame = pd.DataFrame(probs, columns=cols[1:])
        frame.insert(0, cols[0], np.asarray(model.dinfo.response_domain, dtype=object)[labels])
        return frame

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities, float64[rows, classes] in the order of ``classes_``."""
        if not self._trained().dinfo.classification:
            raise AttributeError("a regression model has no class probabilities")
        return self._predictions(X)[1].astype(np.float64)

    def score(self, X, y, sample_weight=None) -> float:
        """Accuracy (classification) or R^2 (regression), as scikit-learn's defaults."""
        pred = self.predict(X)
        y = np.asarray(y).reshape(-1)
        w = np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight, float)
        if self._trained().dinfo.classification:
            return float(np.sum(w * (pred == y)) / np.sum(w))
        mean = np.sum(w * y) / np.sum(w)
        return float(1 - np.sum(w * (y - pred) ** 2) / np.sum(w * (y - mean) ** 2))

    # ------------------------------------------------------------ shared steps
    def _train(self, raw: dict, folder: str) -> None:
        """Validate this estimator's parameters with ``raw`` (the data) and train on every
        rank; the model is kept in ``model_``."""
        from .cv.run import train_with_cv
        from .params.crossval import cross_validates
        values = {k: v for k, v in self.get_params().items() if v != DEFAULTS[k]}
        for name in _CV_FILES:
            if values.get(name):
                raise ValueError(f"{_SOURCE}: {name}=True writes files beside a model file; "
                                 "use `mpidl train` for them (the estimator keeps the metrics)")
        values.update(raw)
        if cross_validates(values):        # the fold models' files would be temporary
            values.setdefault("keep_cross_validation_models", False)
        comm = _world()
        params = _user_errors(validate, values, _SOURCE)
        quiet = lambda *a, **k: None  # noqa: E731
        model = _user_errors(train_with_cv, params, comm, _threads(), os.path.join(folder, "model.h5"),
                             params.model_id or "mpidl_model", print if not params.quiet_mode
                             else quiet, True)
        self.model_ = comm.bcast_obj(model) if comm.size > 1 else model

    def _trained(self):
        if not hasattr(self, "model_"):
            from sklearn.exceptions import NotFittedError  # only sklearn users get here untrained
            raise NotFittedError(f"this {type(self).__name__} is not trained yet: call train "
                                 "or fit first")
        return self.model_

    def _scoring_table(self, data, folder: str) -> str:
        """``data`` as a table: a path or a DataFrame as it is; an array after ``fit`` with
        the names of the columns ``fit`` was given (it must have as many)."""
        if isinstance(data, (str, os.PathLike)) or hasattr(data, "columns") \
                or self._fitted_by != "fit":
            return as_table(data, folder, "score")
        width = _sklearn_X(data).shape[1]
        if width != self.n_features_in_:
            raise ValueError(f"X has {width} features, but {type(self).__name__} is expecting "
                             f"{self.n_features_in_} features as input")
        return as_table(data, folder, "score", self._fit_columns)

    def _predictions(self, X):
        """(labels or values, probabilities or None) for every row of ``X``, on every rank."""
        from .data.frame import Frame
        from .data.hdf5 import block_range
        from .predict import predictions
        model, comm = self._trained(), _world()
        with tempfile.TemporaryDirectory(prefix="mpidl-api-") as tmp:
            frame = _user_errors(Frame, self._scoring_table(X, tmp), comm.size)
            lo, hi = block_range(frame.nrows, comm.size, comm.rank)
            part = predictions(model, frame, lo, hi, _threads())
        if comm.size == 1:
            return part
        parts = comm.allgather_obj(part)
        probs = None if parts[0][1] is None else np.concatenate([p[1] for p in parts])
        return np.concatenate([p[0] for p in parts]), probs


def _sklearn_X(X):
    """``X`` checked as scikit-learn estimators check it: dense, 2-D, real, with a feature
    (a DataFrame as it is, anything else as an array)."""
    if hasattr(X, "toarray") or type(X).__module__.startswith("scipy.sparse"):
        raise TypeError("sparse input is not supported: pass a dense array (X.toarray())")
    arr = X if hasattr(X, "columns") else np.asarray(X)
    if arr.ndim != 2:
        raise ValueError(f"Expected 2D array, got {arr.ndim}D array instead: Reshape your data "
                         "with X.reshape(-1, 1) for one feature or X.reshape(1, -1) for one row")
    if not hasattr(X, "columns") and arr.dtype.kind == "c":
        raise ValueError("Complex data not supported")
    if arr.shape[1] == 0:
        raise ValueError(f"0 feature(s) (shape={arr.shape}) while a minimum of 1 is required.")
    return arr


def _sklearn_y(y, rows: int, sample_weight) -> np.ndarray:
    """``y`` checked: one real or label value per row, at least 2 rows, weights not all 0."""
    if y is None:
        raise ValueError("DeepLearningEstimator requires y to be passed, but the target y is None")
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y.reshape(-1)
    if y.ndim != 1 or len(y) != rows:
        raise ValueError(f"y needs one value per row of X ({rows} rows)")
    if y.dtype.kind == "c":
        raise ValueError("Complex data not supported")
    if rows < 2:
        raise ValueError(f"n_samples={rows}: training needs at least 2 rows")
    if sample_weight is not None and not np.any(np.asarray(sample_weight, float)):
        raise ValueError("all sample weights are zero: no row to train on")
    return y


def _input_tags():
    from sklearn.utils import InputTags
    return InputTags(allow_nan=True, categorical=True, string=True)


def _user_errors(fn, *args):
    """``fn(*args)``, a UserError (bad input) raised as ValueError with its one line."""
    try:
        return fn(*args)
    except UserError as e:
        raise ValueError(str(e)) from None


def _table_names(path: str) -> list[str]:
    from .data.frame import Frame
    return list(_user_errors(Frame, path, 1).info.names)


def _column_name(names: list[str], col) -> str:
    """A column given by name or 0-based index, as its name."""
    if isinstance(col, (int, np.integer)) and not isinstance(col, bool):
        if not 0 <= col < len(names):
            raise ValueError(f"column index {col} outside 0..{len(names) - 1}")
        return names[int(col)]
    if col not in names:
        raise ValueError(f"no column '{col}'{did_you_mean(str(col), names)}")
    return str(col)


def _unique(stem: str, taken: list[str]) -> str:
    name = stem
    while name in taken:
        name += "_"
    return name


def _column_values(X, j: int):
    if hasattr(X, "columns") and hasattr(X, "iloc"):
        return X.iloc[:, j].to_numpy()
    arr = np.asarray(X)
    return (arr.reshape(-1, 1) if arr.ndim == 1 else arr)[:, j]


DeepLearningEstimator.__init__.__signature__ = inspect.Signature(
    [inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)] +
    [inspect.Parameter(q.name, inspect.Parameter.KEYWORD_ONLY, default=DEFAULTS[q.name])
     for q in PARAMS])
