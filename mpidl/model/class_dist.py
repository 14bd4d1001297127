"""H2O's correction of the class probabilities of a model trained on resampled classes
(balance_classes): ``GenModel.correctProbabilities``, applied by ``DeepLearningModel.score0``
before the label is chosen."""

from __future__ import annotations

import numpy as np


def correct_probabilities(probs: np.ndarray, prior, sampled) -> np.ndarray:
    """H2O's ``GenModel.correctProbabilities``: class probabilities float64[n, K] of a model
    trained on resampled classes, re-weighted by prior[c] / sampled[c] (where both are
    non-zero) and renormalized per row (rows summing to 0 stay as they are)."""
    prior, sampled = np.asarray(prior, np.float64), np.asarray(sampled, np.float64)
    factor = np.where((prior != 0) & (sampled != 0), prior / np.where(sampled != 0, sampled, 1), 1.0)
    out = probs * factor
    total = out.sum(axis=1, keepdims=True)
    return np.divide(out, total, out=out, where=total > 0)
