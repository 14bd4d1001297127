"""``mpidl export MODEL -o scorer.py``: the standalone scorer, made from its template module.

``scorer_template.py`` (in this package) is the whole scorer; writing one replaces its two
marker lines: ``PLAN = ...`` with the model's ``plan.describe`` JSON, ``LAYERS = ...`` with
every layer's weights then biases (float32 little-endian, base64).
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import numpy as np

from ..atomic import atomic_path
from .plan import describe, layer_arrays

TEMPLATE = Path(__file__).with_name("scorer_template.py")
_MARKERS = ("PLAN = ", "LAYERS = ")


def scorer_source(model) -> str:
    """The Python source of the standalone scorer of ``model``."""
    plan = json.dumps(describe(model), allow_nan=False)
    flat = np.concatenate([np.concatenate([w.ravel(), b]) for w, b in layer_arrays(model)])
    blob = base64.b64encode(flat.astype("<f4").tobytes()).decode("ascii")
    filled = {"PLAN = ": f"PLAN = json.loads({plan!r})\n", "LAYERS = ": f"LAYERS = {blob!r}\n"}
    lines = TEMPLATE.read_text().splitlines(keepends=True)
    out, seen = [], []
    for line in lines:
        marker = next((m for m in _MARKERS if line.startswith(m)), None)
        if marker:
            seen.append(marker)
            line = filled[marker]
        out.append(line)
    if sorted(seen) != sorted(_MARKERS):
        raise RuntimeError(f"{TEMPLATE}: marker lines {_MARKERS} not found exactly once")
    return "".join(out)


def write_scorer(model, path: str, inputs=()) -> None:
    """Write the scorer of ``model`` to ``path`` atomically (``inputs``: paths not to overwrite)."""
    source = scorer_source(model)
    with atomic_path(path, inputs) as tmp:
        Path(tmp).write_text(source)
