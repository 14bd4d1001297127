"""H2O's early-stopping rule (spec 8.4), best-model loss (7.4) and scoring clock (7.2)."""

import math

import pytest

from mpidl.stopping import (ScoringClock, loss_for_best, more_is_better,
                            resolve_stopping_metric, stop_early)


def first_stop(values, k, metric, tol):
    """Number of values seen when stop_early first says stop, or None."""
    for n in range(len(values) + 1):
        if stop_early(values[:n], k, metric, tol):
            return n
    return None


# ---------------------------------------------------------------------------- stop_early

@pytest.mark.parametrize("k", [1, 3, 5])
@pytest.mark.parametrize("tol", [0.0, 1e-3])
def test_strictly_improving_series_never_stops(k, tol):
    assert first_stop([1.0 / (i + 1) for i in range(60)], k, "logloss", tol) is None
    assert first_stop([0.5 + 0.4 * i / 60 for i in range(60)], k, "AUC", tol) is None


@pytest.mark.parametrize("k", [1, 2, 5])
def test_flat_series_stops_after_exactly_2k_values(k):
    assert first_stop([0.3] * 30, k, "MSE", 0.0) == 2 * k
    assert first_stop([0.9] * 30, k, "AUC", 0.0) == 2 * k


def test_k_zero_disables():
    assert not stop_early([0.3] * 20, 0, "logloss", 0.0)
    assert not stop_early([0.0] * 20, 0, "logloss", 0.0)


def test_only_the_last_2k_values_matter():
    values = [10.0 - i for i in range(10)] + [1.0] * 6
    assert stop_early(values, 3, "deviance", 0.0)
    assert not stop_early([5.0, 5.0, 5.0, 1.0, 2.0, 3.0], 3, "deviance", 0.0)


def test_tolerance_boundary_less_is_better():
    # k = 1: ref = 1.0, candidate 0.5, ratio 0.5; stop iff 0.5 >= 1 - tol
    assert stop_early([1.0, 0.5], 1, "logloss", 0.5)
    assert not stop_early([1.0, 0.5], 1, "logloss", 0.49)
    # k = 2: MAs 2, 1.5, 1.5 -> min/ref = 0.75
    assert stop_early([2.0, 2.0, 1.0, 2.0], 2, "RMSE", 0.25)
    assert not stop_early([2.0, 2.0, 1.0, 2.0], 2, "RMSE", 0.24)


def test_tolerance_boundary_more_is_better_auc():
    assert stop_early([0.5, 0.75], 1, "AUC", 0.5)       # ratio 1.5 <= 1.5
    assert not stop_early([0.5, 0.75], 1, "AUC", 0.49)
    assert stop_early([0.8, 0.8], 1, "AUC", 0.0)        # no improvement
    assert stop_early([0.8, 0.7], 1, "auc", 0.0)        # got worse
    assert not stop_early([0.8, 0.9], 1, "AUC", 0.0)    # improved
    assert not stop_early([0.8, 0.7], 1, "logloss", 0.0)  # same numbers, less is better


def test_worsening_loss_stops():
    assert stop_early([0.5, 0.5, 0.6, 0.7], 2, "misclassification", 0.0)


def test_nan_never_stops():
    assert not stop_early([math.nan, 1.0, 1.0, 1.0], 2, "logloss", 0.0)
    assert not stop_early([1.0, 1.0, 1.0, math.nan], 2, "logloss", 0.0)
    assert stop_early([math.nan, 1.0, 1.0, 1.0, 1.0], 2, "logloss", 0.0)  # NaN left the window


def test_lower_bound_reached():
    assert stop_early([0.0, 0.0], 1, "logloss", 0.0)
    assert stop_early([0.0, 0.0], 1, "mean_per_class_error", 0.0)
    assert not stop_early([0.0, 0.0], 1, "deviance", 0.0)  # not bounded: 0/0 is NaN
    assert not stop_early([0.0, 1.0], 1, "deviance", 0.0)  # sign change


def test_sign_change_rules():
    # MAs -1, -1, 1: min/ref = 1 would stop, but the candidates change sign
    assert not stop_early([-1.0, -1.0, -1.0, 3.0], 2, "deviance", 0.0)
    # ref 2, candidate -3: ratio -1.5 >= 1 - 3 would stop, but the sign differs from ref
    assert not stop_early([2.0, -3.0], 1, "deviance", 3.0)
    assert stop_early([-1.0, -1.0], 1, "deviance", 0.0)


def test_metric_must_be_resolved():
    with pytest.raises(ValueError):
        stop_early([1.0, 1.0], 1, "AUTO", 0.0)


# ------------------------------------------------------------------------- names and loss

def test_resolve_stopping_metric():
    assert resolve_stopping_metric("AUTO", "classification") == "logloss"
    assert resolve_stopping_metric("auto", "regression") == "deviance"
    assert resolve_stopping_metric("AUTO", "autoencoder") == "MSE"
    assert resolve_stopping_metric("auc", "classification") == "AUC"
    assert resolve_stopping_metric("MISCLASSIFICATION", "classification") == "misclassification"
    assert resolve_stopping_metric("aucpr", "classification") == "AUCPR"
    with pytest.raises(ValueError):
        resolve_stopping_metric("r2", "regression")
    with pytest.raises(ValueError):
        resolve_stopping_metric("AUTO", "clustering")


def test_more_is_better():
    assert more_is_better("AUC") and more_is_better("aucpr") and more_is_better("lift_top_group")
    assert not any(more_is_better(m) for m in ("logloss", "deviance", "MSE", "misclassification"))


def test_loss_for_best():
    m = {"AUC": 0.8, "pr_auc": 0.6, "logloss": 0.3, "mean_residual_deviance": 1.5}
    assert loss_for_best(m, "AUC") == pytest.approx(0.2)
    assert loss_for_best(m, "AUCPR") == pytest.approx(0.4)
    assert loss_for_best(m, "logloss") == 0.3
    assert loss_for_best(m, "deviance") == 1.5


# ---------------------------------------------------------------------------- scoring clock

def test_first_call_scores_unless_duty_cycle_is_zero():
    """H2O's clock starts at 0: the first check passes the interval, and its duty test is
    0 / since < duty_cycle, so with a duty cycle of 0 (the tuning guide's setting) H2O scores
    only at the end, as seen with the real H2O."""
    assert ScoringClock(score_interval=1e9, score_duty_cycle=0.1).should_score(0.0)
    assert not ScoringClock(score_interval=1e9, score_duty_cycle=0.0).should_score(0.0)
    assert ScoringClock(score_interval=1e9, score_duty_cycle=0.0).should_score(0.0, final=True)


def test_interval_rule():
    clock = ScoringClock(score_interval=5.0, score_duty_cycle=0.1)
    clock.record(start=0.0, duration=0.1)
    assert not clock.should_score(3.0, False, False)
    assert not clock.should_score(5.0, False, False)  # strictly greater than the interval
    assert clock.should_score(5.5, False, False)       # duty 0.1 / 5.5 < 0.1
    assert clock.should_score(3.0, True, False)        # final iteration
    assert clock.should_score(3.0, False, True)        # score_each_iteration


def test_duty_cycle_rule():
    clock = ScoringClock(score_interval=5.0, score_duty_cycle=0.1)
    clock.record(start=10.0, duration=2.0)
    assert not clock.should_score(16.0, False, False)  # duty 2/6
    assert not clock.should_score(30.0, False, False)  # duty 2/20 == 0.1, not < 0.1
    assert clock.should_score(30.5, False, False)
    clock.record(start=30.5, duration=0.0)
    assert not clock.should_score(35.0, False, False)
    assert clock.should_score(35.6, False, False)


def test_zero_interval_scores_whenever_time_passed_and_duty_allows():
    clock = ScoringClock(score_interval=0.0, score_duty_cycle=0.5)
    clock.record(start=1.0, duration=0.4)
    assert not clock.should_score(1.0, False, False)
    assert not clock.should_score(1.8, False, False)   # 0.4 / 0.8 == 0.5
    assert clock.should_score(1.9, False, False)
