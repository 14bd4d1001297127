"""H2O's categorical encodings that rewrite the frame before DataInfo (``FrameUtils.
categoricalEncoder``): each categorical predictor becomes other columns, numeric or categorical,
which DataInfo then treats like any column of that kind (standardized, one-hot, ...).

A plan is a list of plain dicts, one per encoded column, kept in the model's DataInfo
(``DataInfo.encoding``) so that training, validation, predict, anomaly, cross-validation and
the API apply the same mapping.  Every entry holds ``name`` (the raw column), ``scheme`` and
``domain`` (the training frame's levels: new data is first mapped onto them by level name,
an unseen level counting as missing, H2O's ``adaptTestForTrain``), plus per scheme:

- ``Binary``: columns ``name:0 .. name:B-1``, B = 1 + floor(log2(L)) for L levels; the value
  v = 0 for a missing level, 1 + level index otherwise, column k holds bit k of v; a level
  unseen in training leaves every bit missing (mean-imputed as any missing number).
- ``LabelEncoder``: one numeric column ``name``, the level index (missing and unseen levels
  stay missing); ``values`` when the first level reads as a Java int and so do all the others:
  then each level's number instead (H2O's ``VecUtils.categoricalToInt``; docs/quirks.md).
- ``EnumLimited`` (only columns with more than ``max_levels`` levels): one categorical column
  ``name.top_N_levels`` whose levels are the N most frequent training levels seen at least
  twice (most frequent first; ties by level index), then ``other`` for the rest when some
  level is left out, a level unseen in training included (missing stays missing); ``kept``
  holds the kept level indices in that order.
- ``Eigen``: one numeric column ``name.Eigen`` in the column's place, ``vector[level]`` (the
  leading eigenvector of the training levels' one-hot covariance, ``eigen.py``; missing
  stays missing).

SortByResponse needs no new column: ``sorted_by_response`` reorders a column's domain.
"""

from __future__ import annotations

import re

import numpy as np

from .coltypes import level_name
from .eigen import leading_eigenvector
from .hdf5 import ColumnInfo, TableInfo

FRAME_SCHEMES = ("Binary", "LabelEncoder", "EnumLimited", "Eigen")
OTHER = "other"   # H2O's name for the levels EnumLimited leaves out
UNSEEN = -2       # codes_in_domain's code of a level the domain lacks (-1: missing)
_JAVA_INT = re.compile(r"[+-]?\d+")   # what Integer.parseInt reads (within 32 bits)


def binary_width(levels: int) -> int:
    """Bit columns of a categorical of ``levels`` levels: 1 + floor(log2(levels))."""
    return 1 + max(int(levels), 1).bit_length() - 1


def plan_encoding(scheme: str, max_levels: int, info: TableInfo, cols: dict, predictors,
                  comm) -> list[dict] | None:
    """The plan of ``scheme`` for the categorical ``predictors`` (ColumnInfos) of the training
    frame (``cols``: this rank's raw columns); None for a scheme that keeps the frame as it
    is.  A collective for EnumLimited and Eigen (global level counts)."""
    if scheme not in FRAME_SCHEMES:
        return None
    plan = []
    for col in predictors:
        if col.kind != "categorical":
            continue
        entry = {"name": col.name, "scheme": scheme, "domain": list(col.domain)}
        if scheme == "EnumLimited":
            if len(col.domain) <= max_levels:
                continue
            counts = _global_counts(cols[col.name], len(col.domain), comm)
            entry.update(_top_levels(counts, max_levels), max_levels=int(max_levels))
        if scheme == "LabelEncoder" and _level_numbers(col.domain) is not None:
            entry["values"] = _level_numbers(col.domain)
        if scheme == "Eigen":   # rank 0's vector: every rank holds the same bits
            vector = comm.bcast_array(leading_eigenvector(
                _global_counts(cols[col.name], len(col.domain), comm)))
            entry["vector"] = [float(v) for v in vector]
        plan.append(entry)
    return plan


def _level_numbers(domain) -> list[int] | None:
    """Each level as the int Java's Integer.parseInt reads, when every level reads as one;
    None otherwise (H2O uses the numbers when the first level reads and fails on a later
    level that does not: the level index is kept then)."""
    numbers = []
    for level in domain:
        if not _JAVA_INT.fullmatch(level) or not -2 ** 31 <= int(level) < 2 ** 31:
            return None
        numbers.append(int(level))
    return numbers or None


def _global_counts(raw, levels: int, comm) -> np.ndarray:
    """int64[levels]: the training rows of each level over all ranks (missing rows not
    counted) of a raw categorical column (codes, -1 missing).  A collective."""
    counts = np.bincount(np.asarray(raw, dtype=np.int64) + 1, minlength=levels + 1)
    return comm.allreduce_sum(counts[1:].astype(np.int64))


def _top_levels(counts: np.ndarray, max_levels: int) -> dict:
    """{kept, other}: H2O's Interaction on one column: the ``max_levels`` most frequent levels
    seen at least twice, most frequent first (ties: lower level index first), and whether an
    ``other`` level collects the rest of the levels seen."""
    order = np.lexsort((np.arange(counts.size), -counts))
    seen = order[counts[order] > 0]
    kept = [int(i) for i in seen[:max_levels] if counts[i] >= 2]
    return {"kept": kept, "other": len(kept) < len(seen)}


def encode_frame(plan: list[dict] | None, cols: dict, info: TableInfo, source: str) -> TableInfo:
    """The TableInfo of the encoded frame; each planned column of ``cols`` is replaced there
    (in place) by its encoded columns.  ``info``: the frame's TableInfo (a planned column
    that is numeric here is read by level name, as DataInfo reads any categorical)."""
    if not plan:
        return info
    out, columns, appended, appended_info = cols, [], {}, []
    by_name = {e["name"]: e for e in plan}
    for col in info.columns:
        entry = by_name.get(col.name)
        if entry is None or col.name not in cols:
            columns.append(col)
            continue
        codes = codes_in_domain(out.pop(col.name), col, entry["domain"], source)
        new_cols, new_info = _ENCODERS[entry["scheme"]](entry, codes)
        if entry["scheme"] == "Binary":   # H2O appends the bit columns after the others
            appended.update(new_cols)
            appended_info += new_info
        else:
            out.update(new_cols)
            columns += new_info
    out.update(appended)
    return TableInfo(info.path, info.nrows, tuple(columns + appended_info))


def codes_in_domain(raw, col, domain: list[str], source: str) -> np.ndarray:
    """int codes of ``raw`` in ``domain`` (-1: missing, ``UNSEEN``: a level not in it)."""
    index = {lv: i for i, lv in enumerate(domain)}
    if col.kind == "categorical":
        if list(col.domain) == list(domain):
            return np.asarray(raw, dtype=np.int64)
        mapping = np.array([index.get(lv, UNSEEN) for lv in col.domain] + [-1], dtype=np.int64)
        raw = np.asarray(raw, dtype=np.int64)
        return mapping[np.where(raw < 0, len(col.domain), raw)]
    x = np.asarray(raw, dtype=np.float64)
    out = np.full(x.shape, -1, dtype=np.int64)
    finite = ~np.isnan(x)
    if finite.any():
        vals, inv = np.unique(x[finite], return_inverse=True)
        codes = np.array([index.get(level_name(v), UNSEEN) for v in vals], dtype=np.int64)
        out[finite] = codes[inv]
    return out


def _binary(entry: dict, codes: np.ndarray):
    value = np.where(codes < 0, 0, codes + 1)
    names = encoded_names(entry)
    unseen = codes == UNSEEN
    cols = {n: np.where(unseen, np.nan, (value >> k) & 1) for k, n in enumerate(names)}
    return cols, [ColumnInfo(n, "numeric") for n in names]


def _label(entry: dict, codes: np.ndarray):
    values = np.asarray(entry.get("values", range(len(entry["domain"]))), dtype=np.float64)
    x = np.append(values, np.nan)[np.where(codes < 0, len(entry["domain"]), codes)]
    return {entry["name"]: x}, [ColumnInfo(entry["name"], "numeric")]


def _limited(entry: dict, codes: np.ndarray):
    domain, kept = entry["domain"], entry["kept"]
    levels = [domain[i] for i in kept] + ([OTHER] if entry["other"] else [])
    mapping = np.full(len(domain) + 2, -1, dtype=np.int32)   # then: missing, unseen
    if entry["other"]:
        mapping[:len(domain)] = mapping[-1] = len(kept)
    mapping[kept] = np.arange(len(kept), dtype=np.int32)
    name = encoded_names(entry)[0]
    new = mapping[np.where(codes < 0, len(domain) - 1 - codes, codes)]   # -1, -2: the last two
    return {name: new}, [ColumnInfo(name, "categorical", tuple(levels))]


def _eigen(entry: dict, codes: np.ndarray):
    vector = np.append(np.asarray(entry["vector"], dtype=np.float64), np.nan)
    name = encoded_names(entry)[0]
    return {name: vector[np.where(codes < 0, len(entry["domain"]), codes)]}, \
        [ColumnInfo(name, "numeric")]


_ENCODERS = {"Binary": _binary, "LabelEncoder": _label, "EnumLimited": _limited, "Eigen": _eigen}


def encoded_names(entry: dict) -> list[str]:
    """The columns that the plan entry ``entry`` turns its raw column into."""
    name = entry["name"]
    if entry["scheme"] == "Binary":
        return [f"{name}:{k}" for k in range(binary_width(len(entry["domain"])))]
    if entry["scheme"] == "EnumLimited":
        return [f"{name}.top_{entry['max_levels']}_levels"]
    if entry["scheme"] == "Eigen":
        return [f"{name}.Eigen"]
    return [name]


def sorted_by_response(domain: list[str], codes, response, weights, comm) -> list[str]:
    """H2O's SortByResponse for one categorical column: its levels reordered by the weighted
    mean response of their rows, ascending (stable; a level without rows counts 0).
    ``codes``: this rank's raw codes (-1 missing); ``response``: float64 response values (the
    class index for a categorical response, NaN when missing); ``weights``: float64 row
    weights.  A collective (one sum of 2 x L values)."""
    codes = np.asarray(codes, dtype=np.int64)
    use = (codes >= 0) & ~np.isnan(response) & ~np.isnan(weights) & (weights != 0)
    sums = np.zeros((2, len(domain)))
    np.add.at(sums[0], codes[use], weights[use])
    np.add.at(sums[1], codes[use], weights[use] * response[use])
    sums = comm.allreduce_sum(sums.ravel()).reshape(2, -1)
    means = np.divide(sums[1], sums[0], out=np.zeros(len(domain)), where=sums[0] != 0)
    return [domain[i] for i in np.argsort(means, kind="stable")]
