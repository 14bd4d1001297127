"""What AUTO and Automatic mean (H2O's ``Sanity.modifyParms`` and ``ScoreKeeper``): the
distribution for a response type and loss, the loss for a distribution, the stopping metric
for a response type."""

from __future__ import annotations

from mpidl.errors import UserError

from .values import Params

_AUTO_DIST_BY_LOSS = {"Automatic": "gaussian", "Quadratic": "gaussian", "Absolute": "laplace",
                      "Quantile": "quantile", "Huber": "huber"}
_AUTO_LOSS_BY_DIST = {"gaussian": "Quadratic", "laplace": "Absolute", "quantile": "Quantile", "huber": "Huber",
                      "bernoulli": "CrossEntropy", "multinomial": "CrossEntropy",
                      "poisson": "Automatic", "gamma": "Automatic", "tweedie": "Automatic"}


def auto_distribution(loss: str, is_classification: bool, nclasses: int) -> tuple[str, str]:
    """(distribution, why) that distribution = AUTO means: bernoulli for 2 classes, multinomial
    for more; for regression the one that goes with ``loss`` (UserError for a loss that has
    none, such as CrossEntropy)."""
    if is_classification:
        return ("bernoulli" if nclasses == 2 else "multinomial"), f"AUTO with {nclasses} classes"
    if loss not in _AUTO_DIST_BY_LOSS:
        raise UserError(f"parameter 'loss': {loss} is not allowed for regression")
    return _AUTO_DIST_BY_LOSS[loss], f"AUTO with {loss} loss"


def auto_loss(distribution: str) -> str:
    """The loss that loss = Automatic means for ``distribution`` (a resolved one, not AUTO);
    poisson, gamma and tweedie keep Automatic: their deviance gives the gradient."""
    return _AUTO_LOSS_BY_DIST[distribution]


def resolve_stopping_metric(p: Params, is_classification: bool) -> str:
    """The metric that stopping_metric = AUTO means (H2O ScoreKeeper): logloss for
    classification, MSE for an autoencoder, deviance for regression."""
    if p.stopping_metric != "AUTO":
        return p.stopping_metric
    if p.autoencoder:
        return "MSE"
    return "logloss" if is_classification else "deviance"
