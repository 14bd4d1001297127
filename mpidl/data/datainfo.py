"""H2O's DataInfo: which columns feed the network and how (spec section 1.1-1.2).

Layout of the expanded input (``full_n`` slots): the categorical predictors first, sorted by
cardinality (largest first), each a block of ``L + 1`` slots (``L`` levels without
use_all_factor_levels: the first level is the reference) whose last slot is the NA bucket;
then the numeric predictors at ``num_start..full_n-1``, standardized as ``(x - sub) * mul``.

A transformed row set is four arrays, the kernels' input:
``nums float32[n, n_num]`` (NaN imputed to the column mean ``num_fill``, standardized like
any value: 0 when ``standardize``, the raw mean when not; a training shard's integer columns
may instead be compact raw values standardized as the kernels read them,
``shard_numerics.py``),
``cats int32[n, n_cat]`` (one-hot slot index, -1 for none), ``y float64[n]`` (class index,
or the standardized response) and ``w float64[n]`` (observation weights).

A DataInfo is built from the training frame by ``data/build_info.py`` (global statistics).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from ..errors import UserError
from .coltypes import level_name
from .encodings import codes_in_domain, encode_frame, encoded_names
from .hashing import hashed_slots
from .shard_numerics import numeric_block


@dataclass
class DataInfo:
    """The column plan of a model; JSON-serializable through ``to_dict``/``from_dict``."""

    response: str
    response_domain: list[str] | None      # class levels; None for regression
    resp_sub: float                        # regression: y' = (y - resp_sub) * resp_mul
    resp_mul: float
    cat_names: list[str]
    cat_domains: list[list[str]]
    num_names: list[str]
    num_sub: list[float]
    num_mul: list[float]
    num_fill: list[float]                  # raw value a missing numeric takes: the column mean
    use_all_levels: bool
    weights_column: str | None
    skip_missing: bool
    autoencoder: bool = False              # no response; inputs NORMALIZE-d (spec 1.1, 11)
    offset_column: str | None = None       # regression: added to the output (link units)
    encoding: list[dict] | None = None     # categorical_encoding's frame rewrite (encodings.py)
    hash_slots: int = 0                    # max_categorical_features hashing: M slots (0: off)
    hash_seed: int = 0                     # its MurmurHash seed, (int) of the model's seed

    @property
    def classification(self) -> bool:
        return self.response_domain is not None

    @property
    def nclasses(self) -> int:
        return len(self.response_domain) if self.response_domain is not None else 1

    @property
    def cat_offsets(self) -> np.ndarray:
        """int64[n_cat + 1]: start of each categorical block in the expanded input."""
        sizes = [len(d) + (0 if self.use_all_levels else -1) + 1 for d in self.cat_domains]
        return np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)

    @property
    def num_start(self) -> int:
        """First numeric slot: after the one-hot blocks, or after the M hashed slots."""
        return int(self.hash_slots or self.cat_offsets[-1])

    @property
    def full_n(self) -> int:
        return self.num_start + len(self.num_names)

    @property
    def predictors(self) -> list[str]:
        """The frame columns the model reads (the raw columns of encoded ones)."""
        return [n for n, _ in self.raw_categoricals()] + self.raw_numerics()

    def _encoded(self) -> set[str]:
        return {n for e in self.encoding or [] for n in encoded_names(e)}

    def raw_categoricals(self) -> list[tuple[str, list[str]]]:
        """(name, training levels) of each categorical column the model reads from a frame."""
        made = self._encoded()
        return ([(n, d) for n, d in zip(self.cat_names, self.cat_domains) if n not in made]
                + [(e["name"], e["domain"]) for e in self.encoding or []])

    def raw_numerics(self) -> list[str]:
        """The numeric columns the model reads from a frame."""
        made = self._encoded()
        return [n for n in self.num_names if n not in made]

    def coef_names(self) -> list[str]:
        """Names of the ``full_n`` input slots (``col.level``, ``col.missing(NA)``, numerics;
        with hashing ``hash_0 .. hash_M-1``, then the numerics)."""
        if self.hash_slots:
            return [f"hash_{k}" for k in range(self.hash_slots)] + list(self.num_names)
        names = []
        for c, dom in zip(self.cat_names, self.cat_domains):
            levels = dom if self.use_all_levels else dom[1:]
            names += [f"{c}.{lv}" for lv in levels] + [f"{c}.missing(NA)"]
        return names + list(self.num_names)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "DataInfo":
        # model files without num_fill imputed 0 after the transform, i.e. the raw num_sub
        return cls(**{"num_fill": d.get("num_sub"), **d})

    # ------------------------------------------------------------------ transform
    def transform(self, cols: dict, info, source: str, training: bool, compact: bool = False,
                  stored_types: dict | None = None):
        """Raw columns of a frame -> (nums, cats, y, w, kept_row_index).

        ``info``: the frame's TableInfo (its domains are mapped onto the model's by level
        name; unseen levels go to the NA slot).  ``training``: Skip mode drops rows with a
        missing predictor (scoring always imputes, as H2O).  Rows with a missing response or a
        zero / missing weight are dropped when the response / weights are present.
        ``cols`` is consumed: each raw column leaves the dict as soon as it is converted, so a
        large shard never holds all its raw and converted columns at once.  ``compact``: nums
        may be compact numerics (``shard_numerics.py``), standardized as the kernels read them;
        ``stored_types``: the table's storage of the columns (``Frame.stored_types``).
        """
        n = len(next(iter(cols.values()))) if cols else 0
        info = encode_frame(self.encoding, cols, info, source)
        keep = np.ones(n, dtype=bool)
        offs = self.cat_offsets
        cats = np.full((n, len(self.cat_names)), -1, dtype=np.int32)
        for c, (name, dom) in enumerate(zip(self.cat_names, self.cat_domains)):
            codes = codes_in_domain(cols.pop(name), info.column(name), dom, source)
            missing = codes < 0
            if training and self.skip_missing:
                keep &= ~missing
            if self.use_all_levels:
                slot = np.where(missing, offs[c] + len(dom), offs[c] + codes)
            else:
                slot = np.where(missing, offs[c] + len(dom) - 1,
                                np.where(codes == 0, -1, offs[c] + codes - 1))
            cats[:, c] = slot
        if self.hash_slots:
            cats = hashed_slots(cats, self.hash_seed, self.hash_slots)
        nums, missing = numeric_block(self, cols, info, source, compact, stored_types)
        if training and self.skip_missing:
            keep &= ~missing
        y = np.zeros(n)
        if self.response in cols:
            y = self.response_values(cols.pop(self.response), info.column(self.response), source)
            keep &= ~np.isnan(y)
        w = np.ones(n)
        if self.weights_column and self.weights_column in cols:
            w = np.asarray(cols.pop(self.weights_column), dtype=np.float64)
            keep &= ~np.isnan(w) & (w > 0)
        _check_kernel_indices(cats, y if self.classification else None, self.num_start,
                              self.nclasses)
        idx = np.flatnonzero(keep)
        if idx.size == n:
            return nums, cats, y, w, idx
        return nums[idx], cats[idx], y[idx], w[idx], idx

    def link_offsets(self, cols: dict, info, source: str) -> np.ndarray | None:
        """float64[n]: the offset column of ``cols`` (popped) in the network's output units,
        ``offset * resp_mul`` (the link is ``f / resp_mul + resp_sub``, so the prediction's
        link value gains ``offset``); None for a model without an offset column.  A frame
        without it, a categorical one or a missing value is a UserError naming the column."""
        name = self.offset_column
        if not name:
            return None
        if name not in cols:
            raise UserError(f"{source}: no offset column '{name}' (the model adds it to its output)")
        if info.column(name).kind != "numeric":
            raise UserError(f"{source}: offset column '{name}' must be numeric")
        raw = np.asarray(cols.pop(name), dtype=np.float64)
        if not np.isfinite(raw).all():
            raise UserError(f"{source}: offset column '{name}' has missing or infinite values")
        return raw * self.resp_mul

    def response_values(self, raw, col, source: str) -> np.ndarray:
        """float64 response: class index (NaN if missing/unseen) or standardized value."""
        if self.classification:
            codes = codes_in_domain(raw, col, self.response_domain, source)
            return np.where(codes < 0, np.nan, codes.astype(np.float64))
        if col.kind != "numeric":
            raise UserError(f"{source}: response column '{self.response}' is categorical here "
                            "but numeric in the training frame")
        return (np.asarray(raw, dtype=np.float64) - self.resp_sub) * self.resp_mul

    def unseen_response_levels(self, raw, col) -> list[str]:
        """Class levels of a frame's response (``raw`` values of its column ``col``) missing
        from the model's domain: the categorical column's domain, or the distinct numeric
        values in ``raw``; [] for regression."""
        if not self.classification:
            return []
        if col.kind == "categorical":
            levels = list(col.domain)
        else:
            x = np.asarray(raw, dtype=np.float64)
            levels = [level_name(v) for v in np.unique(x[~np.isnan(x)])]
        known = set(self.response_domain)
        return [lv for lv in levels if lv not in known]


def _check_kernel_indices(cats: np.ndarray, classes, num_start: int, nclasses: int) -> None:
    """The kernels index weight rows with ``cats`` and output units with class indices
    unchecked: a slot outside [-1, num_start) or a class outside [0, nclasses) here is a bug
    (codes are validated when read), stopped as an internal error instead of a segfault."""
    if cats.size and (cats.min() < -1 or cats.max() >= num_start):
        raise RuntimeError(f"categorical slot outside [-1, {num_start})")
    if classes is not None and classes.size:
        known = classes[~np.isnan(classes)]
        if known.size and (known.min() < 0 or known.max() >= nclasses):
            raise RuntimeError(f"class index outside [0, {nclasses})")
