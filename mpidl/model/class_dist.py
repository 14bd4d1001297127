"""H2O's correction of the class probabilities of a model trained on resampled classes
(balance_classes): ``GenModel.correctProbabilities``, applied by ``DeepLearningModel.score0``
before the label is chosen."""

from __future__ import annotations

import numpy as np


def class_factors(prior, sampled) -> np.ndarray:
    """float64[K]: each class's factor prior[c] / sampled[c] (1 where either is 0), from the
    relative class distributions of the training frame (``prior``) and of the resampled rows
    the network was trained on (``sampled``)."""
    prior, sampled = np.asarray(prior, np.float64), np.asarray(sampled, np.float64)
    both = (prior != 0) & (sampled != 0)
    return np.where(both, prior / np.where(both, sampled, 1.0), 1.0)


def correct_probabilities(probs: np.ndarray, prior, sampled) -> np.ndarray:
    """H2O's ``GenModel.correctProbabilities``: class probabilities float64[n, K] multiplied
    by ``class_factors`` and renormalized per row (rows summing to 0 stay as they are)."""
    out = probs * class_factors(prior, sampled)
    total = out.sum(axis=1, keepdims=True)
    return np.divide(out, total, out=out, where=total > 0)
