"""H2O's checks of ``initial_weights`` / ``initial_biases`` that need no data
(``DeepLearningModel.DeepLearningParameters.validate``): one entry per weight layer
(hidden + 1; ``""`` for a layer left random), and none on a checkpoint restart."""

from __future__ import annotations


def check_initial_layers(vals: dict, fail) -> None:
    """Raise ``fail(name, message)`` for a wrong count or a list given with a checkpoint;
    an empty list is H2O's null."""
    for name in ("initial_weights", "initial_biases"):
        if vals[name] == []:
            vals[name] = None
    given = [n for n in ("initial_weights", "initial_biases") if vals[n] is not None]
    if given and vals["checkpoint"]:
        raise fail(given[0], "cannot be set on a checkpoint restart (the checkpoint's weights "
                   "and biases are used); remove it or the checkpoint")
    want = len(vals["hidden"]) + 1
    for name in given:
        if len(vals[name]) != want:
            raise fail(name, f"needs one frame per weight layer: {want} for hidden = "
                       f"{list(vals['hidden'])} (\"\" for a layer left random), got "
                       f"{len(vals[name])}")
