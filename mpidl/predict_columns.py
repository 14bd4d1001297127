"""The columns of a prediction: what new data must hold, and what the output is called.

In: H2O's ``adaptTestForTrain``.  A predictor the new data lacks is scored as missing in every
row (H2O substitutes a column of NaN: the mean for a numeric, the NA slot for a categorical),
and a categorical level the model never saw is scored as missing; each is one warning line per
column with its row count.  No predictor at all in common is an error, as in H2O.

Out: H2O's ``makeScoringNames``: ``predict``, then one probability column per class level,
named ``p`` + level when the level is an integer (``p0``, ``p1``) and the level itself otherwise.
"""

from __future__ import annotations

import re

import numpy as np

from .data.coltypes import level_name  # H2O's name of a number as a level
from .data.hdf5 import ColumnInfo, TableInfo
from .errors import UserError

_JAVA_INT = re.compile(r"[+-]?\d+\Z")
_INT32 = (-(2**31), 2**31 - 1)


def scoring_names(domain) -> list[str]:
    """H2O's prediction column names for class levels ``domain`` (None: regression)."""
    if not domain:
        return ["predict"]
    return ["predict"] + [f"p{lv}" if _is_java_int(lv) else str(lv) for lv in domain]


def _is_java_int(level: str) -> bool:
    """Whether Java's ``Integer.valueOf`` accepts ``level`` (H2O's test)."""
    return bool(_JAVA_INT.match(level)) and _INT32[0] <= int(level) <= _INT32[1]


def missing_predictors(dinfo, info: TableInfo) -> list[str]:
    """The model's predictors that ``info`` lacks, in the model's order; UserError if all are."""
    lacking = [n for n in dinfo.predictors if n not in info.names]
    if dinfo.predictors and len(lacking) == len(dinfo.predictors):
        raise UserError(f"{info.path}: no column in common with the training frame "
                        f"(the model uses {', '.join(dinfo.predictors[:5])}"
                        f"{', ...' if len(dinfo.predictors) > 5 else ''})")
    return lacking


def read_adapted(dinfo, frame, start: int, stop: int) -> tuple[dict, TableInfo]:
    """(raw predictor columns of rows [start, stop), their TableInfo) with every predictor the
    frame lacks filled with missing values (NaN numeric, code -1 categorical)."""
    lacking = set(missing_predictors(dinfo, frame.info))
    present = [n for n in dinfo.predictors if n not in lacking]
    cols = frame.read(present, start, stop)
    n = len(next(iter(cols.values())))
    cats = {name for name, _ in dinfo.raw_categoricals()}
    filled = []
    for name in lacking:
        cat = name in cats
        cols[name] = np.full(n, -1, np.int32) if cat else np.full(n, np.nan)
        filled.append(ColumnInfo(name, "categorical" if cat else "numeric", () if cat else None))
    info = TableInfo(frame.info.path, frame.info.nrows, frame.info.columns + tuple(filled))
    return cols, info


def input_warnings(dinfo, frame) -> list[str]:
    """Every warning about the data of ``frame`` (a ``Frame``) before predicting: the
    importer's lines about odd tokens (a CSV), then ``adapt_warnings``."""
    return frame.notes + adapt_warnings(dinfo, frame)


def adapt_warnings(dinfo, frame) -> list[str]:
    """One line per predictor the frame lacks or that holds levels the model never saw, with
    the number of rows scored as missing because of it (reads the categorical predictors)."""
    nrows = frame.nrows
    lacking = missing_predictors(dinfo, frame.info)
    raw_cats = dinfo.raw_categoricals()
    cat_names = {name for name, _ in raw_cats}
    out = [f"{frame.path}: column '{n}' is missing: all {nrows:,} rows scored with it missing "
           f"({'the NA level' if n in cat_names else 'the training mean'})"
           for n in lacking]
    for name, domain in raw_cats:
        if name in lacking:
            continue
        levels, rows = _unseen(frame, name, domain)
        if rows:
            shown = ", ".join(repr(lv) for lv in levels[:5]) + (", ..." if len(levels) > 5 else "")
            out.append(f"{frame.path}: column '{name}' has {len(levels)} level(s) not trained on "
                       f"({shown}): {rows:,} of {nrows:,} rows scored with it missing")
    return out


def _unseen(frame, name: str, domain) -> tuple[list[str], int]:
    """(levels of column ``name`` not in ``domain``, rows holding one of them)."""
    col = frame.info.column(name)
    raw = frame.read([name])[name]
    known = set(domain)
    if col.kind == "categorical":
        counts = np.bincount(raw[raw >= 0], minlength=len(col.domain))
        levels = [lv for lv in col.domain if lv not in known]
        return levels, int(sum(counts[i] for i, lv in enumerate(col.domain) if lv not in known))
    x = np.asarray(raw, dtype=np.float64)
    vals, counts = np.unique(x[~np.isnan(x)], return_counts=True)
    names = [level_name(v) for v in vals]
    unseen = [i for i, lv in enumerate(names) if lv not in known]
    return [names[i] for i in unseen], int(sum(counts[i] for i in unseen))
