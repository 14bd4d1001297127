"""``pretrained_autoencoder``: a supervised model that starts from an autoencoder's hidden
layers (H2O's ``initializeFromPretrainedModel``, spec 2 and 11).

The new model is randomly initialized first; then every weight matrix but the last and the
hidden biases are copied from the autoencoder (the output layer keeps its fresh weights and
zero biases); optimizer state is not copied.  H2O's compatibility checks: the file is an
autoencoder, with the same activation, hidden layers and expanded inputs (columns and
levels).  As in H2O the input scaling is not reconciled (the autoencoder's NORMALIZE against
the supervised STANDARDIZE; docs/quirks.md).
"""

from __future__ import annotations

from ..errors import UserError


def start_from_autoencoder(model, path: str) -> None:
    """Overwrite ``model.buf``'s shared layers with those of the autoencoder at ``path``;
    UserError naming the file and the first mismatch."""
    from ..checkpoint import read_model
    ae = read_model(path)
    check_compatible(ae, model, path)
    lay = model.layout
    for layer in range(lay.n_layers - 1):
        lay.weights(model.buf, layer)[...] = ae.layout.weights(ae.buf, layer)
        lay.biases(model.buf, layer)[...] = ae.layout.biases(ae.buf, layer)


def check_compatible(ae, model, path: str) -> None:
    """The checks H2O makes before copying ``ae``'s layers into ``model``."""
    where = f"pretrained_autoencoder {path}"
    if not ae.dinfo.autoencoder:
        raise UserError(f"{where}: is not an autoencoder model (trained with a response)")
    if ae.params.activation != model.params.activation:
        raise UserError(f"{where}: activation {ae.params.activation} differs from this "
                        f"model's {model.params.activation}")
    if list(ae.params.hidden) != list(model.params.hidden):
        raise UserError(f"{where}: hidden layers {list(ae.params.hidden)} differ from this "
                        f"model's {list(model.params.hidden)}")
    ours, theirs = model.dinfo.coef_names(), ae.dinfo.coef_names()
    if ours != theirs:
        raise UserError(f"{where}: its inputs differ from the training frame's "
                        f"({_first_difference(theirs, ours)}); train it on the same predictor "
                        "columns")


def _first_difference(theirs: list[str], ours: list[str]) -> str:
    """The first input one list has and the other lacks, or the first one out of place."""
    only_ours = [n for n in ours if n not in set(theirs)]
    only_theirs = [n for n in theirs if n not in set(ours)]
    if only_ours:
        return f"the frame's input '{only_ours[0]}' is not among the autoencoder's"
    if only_theirs:
        return f"the autoencoder's input '{only_theirs[0]}' is not in the frame"
    return next(f"'{a}' where the frame has '{b}'" for a, b in zip(theirs, ours) if a != b)
