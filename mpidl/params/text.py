"""How parameter values and names are written in messages and docs: numbers as a job file
spells them, values quoted where a reader needs it, and a "did you mean" for a misspelt name."""

from __future__ import annotations

import difflib
import math
import re
from typing import Any, Iterable


def format_number(x: float) -> str:
    """Short decimal form of a number: 1e-06 -> 1e-6, 10.0 -> 10."""
    if isinstance(x, bool):
        return "true" if x else "false"
    if isinstance(x, int):
        return str(x)
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return re.sub(r"e([+-])0*(\d)", lambda m: "e" + m.group(1).replace("+", "") + m.group(2), f"{x:.8g}")


def format_value(v: Any) -> str:
    """A value as a job file would spell it (strings quoted only inside lists)."""
    if v is None:
        return "none"
    if isinstance(v, (bool, int, float)):
        return format_number(v)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(repr(e) if isinstance(e, str) else format_value(e) for e in v) + "]"
    return str(v)


def show_value(v: Any) -> str:
    """A value for a message: strings quoted, everything else as ``format_value`` writes it."""
    return repr(v) if isinstance(v, str) else format_value(v)


def did_you_mean(word: str, options: Iterable[str]) -> str:
    """The hint ``; did you mean 'X'?`` for the option that differs from ``word`` only in case,
    else for the closest one; "" when none is close."""
    options = list(options)
    for o in options:
        if o.lower() == word.lower():
            return f"; did you mean '{o}'?"
    close = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""

