"""Building H2O's DataInfo (``datainfo.py``) from the training frame: the response's levels
or scaling, the observation weights, the input columns kept and their transforms, the
categorical encoding's plan.

Statistics (means, sds, constant columns, response levels) are global: each rank computes
sums over its shard and the communicator adds them, all columns stacked in a few collectives
(``column_stats.py``), so every rank builds the same DataInfo whatever the rank count.
"""

from __future__ import annotations

import numpy as np

from ..errors import UserError
from .coltypes import level_name
from .column_stats import check_unstandardized, global_column_stats, normalized_weights
from .datainfo import DataInfo
from .encodings import encode_frame, plan_encoding, sorted_by_response


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
        if params.standardize:   # sparse: H2O's DESCALE, zeros stay zero
            out["num_sub"].append(0.0 if params.sparse and not params.autoencoder else mean)
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
