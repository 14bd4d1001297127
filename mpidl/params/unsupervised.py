"""The autoencoder rules of H2O's ``DeepLearningParameters.validate`` (spec 0.2 and 11) that
need no data, and the one for ``pretrained_autoencoder``: an autoencoder has no response,
no Maxout, no CrossEntropy loss and stops on MSE; a pretrained autoencoder seeds a
supervised model only."""

from __future__ import annotations

from typing import Any, Callable

from mpidl.errors import UserError


def check_unsupervised(vals: dict[str, Any], fail: Callable[[str, str], UserError]) -> None:
    """Raise ``fail(name, message)`` for the first autoencoder rule ``vals`` break."""
    if not vals["autoencoder"]:
        if vals["sparsity_beta"] != 0:
            raise fail("sparsity_beta", "is only for an autoencoder (set autoencoder = true)")
        return
    if vals["response_column"]:
        raise fail("response_column", f"an autoencoder has no response; remove "
                   f"response_column '{vals['response_column']}' (or set autoencoder = false)")
    if vals["activation"].startswith("Maxout"):
        raise fail("activation", f"{vals['activation']} is not allowed for an autoencoder; use "
                   "Tanh or Rectifier (or their WithDropout variants)")
    if vals["loss"] == "CrossEntropy":
        raise fail("loss", "CrossEntropy is not allowed for an autoencoder; use Automatic, "
                   "Quadratic, Absolute, Huber or Quantile")
    if vals["distribution"] not in ("AUTO", "gaussian", "laplace", "quantile", "huber"):
        raise fail("distribution", f"{vals['distribution']} is not allowed for an autoencoder; "
                   "use AUTO, gaussian, laplace, quantile or huber")
    if vals["stopping_metric"] not in ("AUTO", "MSE"):
        raise fail("stopping_metric", f"{vals['stopping_metric']} is not allowed for an "
                   "autoencoder; use AUTO or MSE (the reconstruction error)")
    if vals["sparsity_beta"] > 0:
        if not vals["activation"].startswith("Tanh"):
            raise fail("sparsity_beta", f"needs a Tanh activation (activation is "
                       f"{vals['activation']})")
        if not -1 < vals["average_activation"] < 1:
            raise fail("average_activation", f"must lie in (-1, 1) for Tanh with sparsity_beta "
                       f"> 0 (got {vals['average_activation']:g})")
    if vals["categorical_encoding"] == "SortByResponse":
        raise fail("categorical_encoding", "SortByResponse orders levels by the response; an "
                   "autoencoder has none (use another encoding)")
    if vals["offset_column"]:
        raise fail("offset_column", "shifts a regression output; an autoencoder has none "
                   "(remove offset_column)")
    if vals["pretrained_autoencoder"]:
        raise fail("pretrained_autoencoder", "seeds a supervised model; an autoencoder cannot "
                   "start from one (set autoencoder = false)")
