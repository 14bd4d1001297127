"""H2O's DataInfo: which columns feed the network and how (spec section 1.1-1.2).

Layout of the expanded input (``full_n`` slots): the categorical predictors first, sorted by
cardinality (largest first), each a block of ``L + 1`` slots (``L`` levels without
use_all_factor_levels: the first level is the reference) whose last slot is the NA bucket;
then the numeric predictors at ``num_start..full_n-1``, standardized as ``(x - sub) * mul``.

A transformed row set is four arrays, the kernels' input:
``nums float32[n, n_num]`` (NaN imputed to the column mean ``num_fill``, standardized like
any value: 0 when ``standardize``, the raw mean when not),
``cats int32[n, n_cat]`` (one-hot slot index, -1 for none), ``y float64[n]`` (class index,
or the standardized response) and ``w float64[n]`` (observation weights).

Statistics (means, sds, constant columns, response levels) are global: each rank computes
sums over its shard and the communicator adds them, all columns stacked in a few collectives
(``column_stats.py``), so every rank builds the same DataInfo whatever the rank count.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from ..errors import UserError
from .coltypes import level_name
from .encodings import (codes_in_domain, encode_frame, encoded_names, plan_encoding,
                        sorted_by_response)
from .hashing import hashed_slots
from .column_stats import (check_unstandardized, global_column_stats, normalized_weights,
                           standardized)


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
    def transform(self, cols: dict, info, source: str, training: bool):
        """Raw columns of a frame -> (nums, cats, y, w, kept_row_index).

        ``info``: the frame's TableInfo (its domains are mapped onto the model's by level
        name; unseen levels go to the NA slot).  ``training``: Skip mode drops rows with a
        missing predictor (scoring always imputes, as H2O).  Rows with a missing response or a
        zero / missing weight are dropped when the response / weights are present.
        ``cols`` is consumed: each raw column leaves the dict as soon as it is converted, so a
        large shard never holds all its raw and converted columns at once.
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
        # column-major while columns arrive (each raw column is freed as its converted column
        # is written, page by page); made row-major for the kernels at the end
        nums = np.empty((n, len(self.num_names)), dtype=np.float32, order="F")
        for i, name in enumerate(self.num_names):
            if info.column(name).kind != "numeric":
                raise UserError(f"{source}: column '{name}' is categorical here but numeric in "
                                "the training frame")
            x = np.asarray(cols.pop(name), dtype=np.float64)
            bad = np.isnan(x)
            if training and self.skip_missing:
                keep &= ~bad
            nums[:, i] = standardized(np.where(bad, self.num_fill[i], x), self.num_sub[i],
                                      self.num_mul[i], name, source)
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
            return np.ascontiguousarray(nums), cats, y, w, idx
        return np.ascontiguousarray(nums[idx]), cats[idx], y[idx], w[idx], idx

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


# ---------------------------------------------------------------------- building
def build_datainfo(frame, cols: dict, params, comm, source: str, log=print) -> DataInfo:
    """DataInfo of the training frame from this rank's raw columns ``cols`` (its shard).

    Every rank calls this (collective).  ``params``: the validated job parameters.
    """
    info = frame.info
    auto = bool(params.autoencoder)
    resp = "" if auto else params.response_column
    rcol = None if auto else info.column(resp)
    oname = params.offset_column
    if oname and info.column(oname).kind != "numeric":
        raise UserError(f"{source}: offset column '{oname}' must be numeric")
    w = _row_weights(info, cols, params.weights_column, comm, source)
    classification = not auto and (rcol.kind == "categorical" or
                                   params.distribution in ("bernoulli", "multinomial"))
    domain = _response_domain(rcol, cols[resp], comm, source) if classification else None
    # one stacked reduction: the numeric response (regression) and every predictor column;
    # weighted unless there is an offset column (H2O's rule, spec 1.1)
    excluded = ({resp, params.weights_column, oname, params.fold_column}
                | set(params.ignored_columns))
    predictors = [col for col in info.columns if col.name not in excluded]
    plan = plan_encoding(params.categorical_encoding, params.max_categorical_levels, info, cols,
                         predictors, comm)
    if plan:
        cols = dict(cols)   # the caller's raw columns stay as they are
        info = encode_frame(plan, cols, info, source)
        predictors = [col for col in info.columns if col.name not in excluded]
    regression = not (classification or auto)
    stat_cols = ([rcol] if regression else []) + predictors
    stats = global_column_stats([cols[c.name] for c in stat_cols],
                                [c.kind == "categorical" for c in stat_cols],
                                [c.name for c in stat_cols], np.ones_like(w) if oname else w,
                                comm, source)
    resp_sub, resp_mul = _response_scaling(stats, resp, params, source) if regression \
        else (0.0, 1.0)
    inputs = _input_columns(predictors, stats, 1 if regression else 0, params, source)
    if params.categorical_encoding == "SortByResponse" and not auto:
        y = _raw_response(cols[resp], rcol)
        inputs["cat_domains"] = [sorted_by_response(dom, cols[name], y, w, comm) for name, dom
                                 in zip(inputs["cat_names"], inputs["cat_domains"])]
    order = h2o_cat_order([len(d) for d in inputs["cat_domains"]])
    dinfo = DataInfo(
        response=resp, response_domain=domain, resp_sub=float(resp_sub), resp_mul=float(resp_mul),
        cat_names=[inputs["cat_names"][i] for i in order],
        cat_domains=[inputs["cat_domains"][i] for i in order],
        num_names=inputs["num_names"], num_sub=[float(v) for v in inputs["num_sub"]],
        num_mul=[float(v) for v in inputs["num_mul"]],
        num_fill=[float(v) for v in inputs["num_fill"]],
        use_all_levels=bool(params.use_all_factor_levels),
        weights_column=params.weights_column or None,
        skip_missing=params.missing_values_handling == "Skip", autoencoder=auto,
        offset_column=oname or None, encoding=plan)
    if params.max_categorical_features < dinfo.num_start:
        if auto:
            raise UserError(f"{source}: parameter 'max_categorical_features': hashing "
                            f"{dinfo.num_start} categorical slots into "
                            f"{params.max_categorical_features} is not supported for an "
                            "autoencoder (it reconstructs every slot)")
        dinfo.hash_slots = int(params.max_categorical_features)
    return dinfo


def _raw_response(raw, rcol) -> np.ndarray:
    """float64 response as H2O reads it for SortByResponse: the class index of a categorical
    response, the value of a numeric one (NaN when missing)."""
    if rcol.kind == "categorical":
        codes = np.asarray(raw, dtype=np.float64)
        return np.where(codes < 0, np.nan, codes)
    return np.asarray(raw, dtype=np.float64)


def _row_weights(info, cols: dict, wname: str | None, comm, source: str) -> np.ndarray:
    """float64[n] weights of this rank's rows: the weights column normalized as H2O does
    (missing = 0), or ones without one (a collective when there is a weights column)."""
    w = np.ones(len(next(iter(cols.values()))) if cols else 0)
    if not wname:
        return w
    if info.column(wname).kind != "numeric":
        raise UserError(f"{source}: weights column '{wname}' must be numeric")
    w = np.nan_to_num(np.asarray(cols[wname], dtype=np.float64), nan=0.0, posinf=np.inf)
    ends = comm.allreduce_max(np.array([w.max(), -w.min()] if w.size else [0.0, 0.0]))
    return normalized_weights(w, -ends[1], ends[0], wname, source)


def _response_domain(rcol, values, comm, source: str) -> list[str]:
    """A classifier's class levels: a categorical response's domain, or the distinct values
    of a numeric one named as H2O names them; at least two must occur (a collective)."""
    resp = rcol.name
    if rcol.kind == "categorical":
        present = np.zeros(len(rcol.domain), dtype=np.int64)
        codes = np.asarray(values)
        np.add.at(present, codes[codes >= 0], 1)
        comm.allreduce_sum(present)
        domain = list(rcol.domain)
        used = [lv for lv, c in zip(domain, present) if c > 0]
    else:
        x = np.asarray(values, dtype=np.float64)
        local = sorted(set(np.unique(x[~np.isnan(x)]).tolist()))
        vals = sorted(set().union(*comm.allgather_obj(local)))
        if len(vals) > 1000:
            raise UserError(f"{source}: response column '{resp}' has {len(vals)} distinct "
                            "numeric values; too many classes for a classifier")
        domain = used = [level_name(v) for v in vals]
    if len(used) < 2:
        what = f"only one level ('{used[0]}')" if used else "no values"
        raise UserError(f"{source}: response column '{resp}' has {what}; "
                        "a classifier needs at least two classes")
    return domain


def _response_scaling(stats, resp: str, params, source: str) -> tuple[float, float]:
    """(resp_sub, resp_mul) of a numeric response from its global statistics (column 0 of
    ``stats``): standardized for the distributions H2O standardizes, else (0, 1)."""
    if stats.count[0] == 0:
        raise UserError(f"{source}: response column '{resp}' has no values")
    if stats.lo[0] == stats.hi[0]:
        raise UserError(f"{source}: response column '{resp}' is constant "
                        f"({stats.lo[0]:g}); a response cannot be constant")
    mean, sd = stats.mean[0], stats.sd[0]
    if params.standardize and params.distribution in ("AUTO", "gaussian", "laplace",
                                                      "quantile", "huber"):
        return mean, (1.0 / sd if sd > 0 else 1.0)
    return 0.0, 1.0


def _input_columns(predictors, stats, first: int, params, source: str) -> dict[str, list]:
    """The input columns kept (constant and empty ones dropped by ignore_const_cols) with
    their transforms: cat_names, cat_domains, num_names, num_sub, num_mul, num_fill.
    ``stats`` column ``first + j`` belongs to ``predictors[j]``."""
    out = {k: [] for k in ("cat_names", "cat_domains", "num_names", "num_sub", "num_mul",
                           "num_fill")}
    for j, col in enumerate(predictors, start=first):
        cnt, mean, sd = stats.count[j], float(stats.mean[j]), float(stats.sd[j])
        const = cnt == 0 or stats.lo[j] == stats.hi[j]
        if cnt == 0 and not params.ignore_const_cols:
            raise UserError(f"{source}: column '{col.name}' has no values (all missing); "
                            "add it to ignored_columns")
        if const and params.ignore_const_cols:
            continue
        if col.kind == "categorical":
            out["cat_names"].append(col.name)
            out["cat_domains"].append(list(col.domain))
            continue
        out["num_names"].append(col.name)
        out["num_fill"].append(mean)
        if params.standardize:
            out["num_sub"].append(mean)
            out["num_mul"].append(_input_multiplier(bool(params.autoencoder), sd,
                                                    float(stats.lo[j]), float(stats.hi[j])))
        else:
            check_unstandardized(stats.lo[j], stats.hi[j], col.name, source)
            out["num_sub"].append(0.0)
            out["num_mul"].append(1.0)
    if not out["cat_names"] and not out["num_names"]:
        raise UserError(f"{source}: no usable predictor columns (all ignored, constant or "
                        "missing)")
    return out


def _input_multiplier(autoencoder: bool, sd: float, lo: float, hi: float) -> float:
    """H2O's multiplier of a numeric input: NORMALIZE 1 / (max - min) for an autoencoder,
    STANDARDIZE 1 / sd otherwise (1 for a constant column), spec 1.1.  Python floats: a
    range beyond float64 (max - min = inf) gives 0 without a numpy overflow warning."""
    spread = hi - lo if autoencoder else sd
    return 1.0 / spread if spread > 0 else 1.0


def h2o_cat_order(sizes: list[int]) -> list[int]:
    """Order of the categorical columns of domain sizes ``sizes``: DataInfo.java's exchange
    sort, larger domains first.  Not stable (of two equal domains the later column may come
    first); kept so that the input layout and coefficient names are H2O's."""
    order = list(range(len(sizes)))
    for i in range(len(order)):
        for j in range(i + 1, len(order)):
            if sizes[order[i]] < sizes[order[j]]:
                order[i], order[j] = order[j], order[i]
    return order


def check_columns(info, params, source: str) -> None:
    """The columns the job names exist in ``info``; one UserError naming the first missing one."""
    names = set(info.names)
    if not params.autoencoder and params.response_column not in names:
        raise UserError(f"{source}: no response column '{params.response_column}' "
                        f"(columns: {', '.join(list(info.names)[:8])}{', ...' if len(names) > 8 else ''})")
    for key in ("weights_column", "offset_column"):
        v = getattr(params, key)
        if v and v not in names:
            raise UserError(f"{source}: {key} '{v}' is not a column")
    for v in params.ignored_columns:
        if v not in names:
            raise UserError(f"{source}: ignored_columns: no column '{v}'")
    if info.nrows == 0:
        raise UserError(f"{source}: the frame has no rows")
