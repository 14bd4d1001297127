"""When to score and when to stop: H2O's ScoreKeeper.stopEarly and doScoring's timing rule.

Pure functions over Python floats: no clock reads, no MPI (rank 0 decides, the loop broadcasts).
Spec references: 7.2 (when scoring happens), 7.4 (best model), 8.4 (metric-based stopping).
"""

import math

from mpidl.metrics import canonical_metric_name, metric_value

__all__ = [
    "MORE_IS_BETTER", "BOUNDED_BELOW", "more_is_better", "resolve_stopping_metric",
    "stop_early", "loss_for_best", "ScoringClock",
]

# ScoreKeeper.StoppingMetric flags, by canonical name.
MORE_IS_BETTER = frozenset({"AUC", "AUCPR", "lift_top_group"})
BOUNDED_BELOW = frozenset({"logloss", "MSE", "RMSE", "MAE", "RMSLE", "AUC", "AUCPR",
                           "misclassification", "mean_per_class_error"})

_AUTO_METRIC = {"classification": "logloss", "regression": "deviance", "autoencoder": "MSE"}


def more_is_better(metric):
    """True for metrics where larger is better (AUC, AUCPR, lift_top_group), any case."""
    return canonical_metric_name(metric) in MORE_IS_BETTER


def resolve_stopping_metric(metric, kind):
    """H2O's canonical stopping-metric name; AUTO by model kind (spec 8.4).

    ``kind``: "classification" -> logloss, "regression" -> deviance, "autoencoder" -> MSE.
    """
    canon = canonical_metric_name(metric)
    if canon != "AUTO":
        return canon
    if kind not in _AUTO_METRIC:
        raise ValueError(f"model kind {kind!r}: expected one of {', '.join(_AUTO_METRIC)}")
    return _AUTO_METRIC[kind]


def _sign(x):
    return (x > 0) - (x < 0)


def stop_early(values, k, metric, tolerance):
    """H2O's ``ScoreKeeper.stopEarly`` (spec 8.4): True when training should stop.

    ``values``: one metric value per real scoring event, oldest first, WITHOUT H2O's empty
    placeholder entry (so H2O's ``n - 1 >= 2k`` is ``len(values) >= 2k`` here). ``metric``:
    a resolved stopping-metric name (not AUTO). ``tolerance``: stopping_tolerance (relative).
    The rules, in H2O's order:

    1. ``k == 0`` disables the check; fewer than ``2k`` values: no stop.
    2. Moving averages ``MA_i = mean(values[-2k+i : -k+i])``, i = 0..k (k + 1 windows of size k
       over the last 2k values, each summed in order then divided by k). ``ref = MA_0``; the
       candidates are ``MA_1..MA_k``. Any NaN MA: no stop.
    3. Lower bound reached: for a metric bounded below by 0 (logloss, MSE, RMSE, MAE, RMSLE,
       AUC, AUCPR, misclassification, mean_per_class_error), ``ref == 0`` stops.
    4. Sign change: if sign(max candidate) != sign(min candidate), no stop; if the sign of the
       best candidate (max for more-is-better, min otherwise) differs from sign(ref), no stop.
    5. Less-is-better: stop iff ``min(MA_1..MA_k) / ref >= 1 - tolerance``.
       More-is-better (AUC, AUCPR, lift_top_group): stop iff
       ``max(MA_1..MA_k) / ref <= 1 + tolerance``. A NaN ratio (0 / 0) does not stop.

    With tolerance 0 this stops as soon as no candidate improved on the reference at all.
    """
    if k <= 0 or len(values) < 2 * k:
        return False
    canon = canonical_metric_name(metric)
    if canon == "AUTO":
        raise ValueError("stopping_metric AUTO must be resolved before stop_early")
    tail = [float(v) for v in values[len(values) - 2 * k:]]
    averages = []
    for i in range(k + 1):
        total = 0.0
        for v in tail[i:i + k]:
            total += v
        avg = total / k
        if math.isnan(avg):
            return False
        averages.append(avg)
    ref, candidates = averages[0], averages[1:]
    lo, hi = min(candidates), max(candidates)
    if canon in BOUNDED_BELOW and ref == 0:
        return True
    bigger_better = canon in MORE_IS_BETTER
    if _sign(hi) != _sign(lo):
        return False
    if _sign(hi if bigger_better else lo) != _sign(ref):
        return False
    try:
        ratio = (hi if bigger_better else lo) / ref
    except ZeroDivisionError:  # 0 / 0 in Java is NaN: no stop
        return False
    if math.isnan(ratio):
        return False
    return ratio <= 1 + tolerance if bigger_better else ratio >= 1 - tolerance


def loss_for_best(metrics, metric):
    """The loss compared to keep the best model (spec 7.4): lower is better.

    The value of the resolved stopping ``metric`` in ``metrics`` (validation metrics if there
    is a validation frame, else training), mapped to ``1 - value`` when more is better.
    """
    value = metric_value(metrics, metric)
    return 1.0 - value if more_is_better(metric) else value


class ScoringClock:
    """doScoring's rule for when to score (spec 7.2). Times are seconds, passed in by the caller.

    Score if training stops this round (``final``), or ``score_each_iteration``, or
    ``since > score_interval`` and ``last_duration / since < score_duty_cycle``, where
    ``since = now - last_start``. The first call scores unless the duty cycle is 0 (H2O's
    timestamps start at 0, so ``since`` is huge and the last duration is 0, and 0 < 0 fails:
    H2O's tuning guide relies on this to score only at the end). Call ``record`` after every
    scoring.
    ``last_start`` / ``last_duration`` are plain attributes, for checkpoints.
    """

    def __init__(self, score_interval=5.0, score_duty_cycle=0.1):
        self.score_interval = float(score_interval)
        self.score_duty_cycle = float(score_duty_cycle)
        self.last_start = None
        self.last_duration = 0.0

    def should_score(self, now, final=False, score_each_iteration=False):
        """True if this iteration should score (``now``: seconds, any fixed origin)."""
        if final or score_each_iteration:
            return True
        if self.last_start is None:
            return 0.0 < self.score_duty_cycle
        since = now - self.last_start
        if not since > self.score_interval:
            return False
        duty = self.last_duration / since if since > 0 else math.inf
        return duty < self.score_duty_cycle

    def record(self, start, duration):
        """Remember the scoring that began at ``start`` and took ``duration`` seconds."""
        self.last_start = float(start)
        self.last_duration = float(duration)
