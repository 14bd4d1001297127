"""vs_torch.py's parity helpers: one initial network for both systems, and curves over seeds.

Initial networks (``--init``), drawn here with numpy per seed and given to both systems (to
PyTorch as tensors, to mpidl as ``initial_weights`` / ``initial_biases`` frames), so the two
start from the same weights:

- ``torch``: PyTorch's ``nn.Linear`` default, weights and biases U(-1/sqrt(fan_in),
  1/sqrt(fan_in));
- ``h2o``: N(0, scale) weights, hidden biases 0.5 for the first and 1.0 for later layers, output
  biases 0 (H2O's Rectifier rule, mpidl/model/network.py);
- ``normal0``: N(0, scale) weights and zero biases.

Curves: a run is a list of (epochs, training seconds, test error) at each evaluation.  Over
seeds the error is averaged per evaluation; the time to a target is read off the mean curve
smoothed by a running mean over ``SMOOTH`` evaluations, at the first evaluation where the
smoothed curve is at or below the target, so one momentary dip of one run does not count.
``report`` writes vs_torch.py's markdown from those summaries.
"""

from __future__ import annotations

import numpy as np

import common

INITS = ("none", "torch", "h2o", "normal0")
SMOOTH = 3


def init_tensors(kind: str, units: list[int], scale: float, seed: int) -> list[tuple]:
    """[(W [n_out, n_in] float32, b [n_out] float32)] per weight layer for ``kind``."""
    rng = np.random.default_rng(seed)
    layers = []
    for l, (n_in, n_out) in enumerate(zip(units[:-1], units[1:])):
        last = l == len(units) - 2
        if kind == "torch":
            bound = 1.0 / np.sqrt(n_in)
            w = rng.uniform(-bound, bound, (n_out, n_in))
            b = rng.uniform(-bound, bound, n_out)
        else:
            w = rng.normal(0.0, scale, (n_out, n_in))
            hidden_bias = (0.5 if l == 0 else 1.0) if kind == "h2o" else 0.0
            b = np.full(n_out, 0.0 if last else hidden_bias)
        layers.append((w.astype(np.float32), b.astype(np.float32)))
    return layers


def init_frames(kind: str, units: list[int], scale: float, seed: int) -> dict:
    """mpidl job parameters ``initial_weights`` / ``initial_biases``: .h5 frames of
    ``init_tensors`` (written once into common.WORKDIR)."""
    from mpidl.data.hdf5 import write_table
    weights, biases = [], []
    tag = f"{kind}_{'x'.join(map(str, units))}_{scale:g}_{seed}"
    for l, (w, b) in enumerate(init_tensors(kind, units, scale, seed)):
        for name, table, out in (("w", w, weights), ("b", b[:, None], biases)):
            path = common.WORKDIR / f"init_{tag}_{name}{l}.h5"
            if not path.exists():
                write_table(path, {f"C{j + 1}": table[:, j].astype(np.float64)
                                   for j in range(table.shape[1])}, {})
            out.append(str(path))
    return {"initial_weights": weights, "initial_biases": biases}


def load_into_torch(torch, net, layers: list[tuple]) -> None:
    """Copy ``init_tensors`` into the nn.Linear layers of ``net`` (in order)."""
    linears = [m for m in net if isinstance(m, torch.nn.Linear)]
    with torch.no_grad():
        for lin, (w, b) in zip(linears, layers):
            lin.weight.copy_(torch.from_numpy(w))
            lin.bias.copy_(torch.from_numpy(b))


def mean_curve(runs: list[list[tuple]]) -> list[tuple]:
    """[(epochs, mean seconds, mean error, sd of error)] over runs, cut to the shortest run."""
    n = min(len(r) for r in runs)
    out = []
    for i in range(n):
        ep = float(np.mean([r[i][0] for r in runs]))
        sec = float(np.mean([r[i][1] for r in runs]))
        errs = np.array([r[i][2] for r in runs])
        out.append((ep, sec, float(errs.mean()), float(errs.std(ddof=1)) if len(errs) > 1
                    else 0.0))
    return out


def smoothed_hit(curve: list[tuple], target: float) -> tuple | None:
    """(epochs, seconds) at the first evaluation where the running mean of the last
    ``SMOOTH`` mean errors is <= target; None when it never is."""
    errs = [c[2] for c in curve]
    for i in range(SMOOTH - 1, len(curve)):
        if np.mean(errs[i - SMOOTH + 1:i + 1]) <= target:
            return curve[i][0], curve[i][1]
    return None


def summary(runs: list[list[tuple]], target: float) -> dict:
    """Over seeds: final error mean / sd / min-max, the mean curve and its smoothed hit."""
    finals = np.array([r[-1][2] for r in runs])
    curve = mean_curve(runs)
    return {"seeds": len(runs), "final_mean": float(finals.mean()),
            "final_sd": float(finals.std(ddof=1)) if len(finals) > 1 else 0.0,
            "final_min": float(finals.min()), "final_max": float(finals.max()),
            "epochs": float(np.mean([r[-1][0] for r in runs])),
            "train_seconds": float(np.mean([r[-1][1] for r in runs])),
            "curve": curve, "hit": smoothed_hit(curve, target)}


# ---------------------------------------------------------------------------- report
def fmt(x, spec: str, missing: str = "n/a") -> str:
    return missing if x is None or (isinstance(x, float) and np.isnan(x)) else format(x, spec)


def report(a, hidden: list[int], results: list, torch_speed, notes: list) -> str:
    """The markdown: one row per system, the mean curves side by side, then notes."""
    t = f"{100 * a.target:g} %"
    header = ["system", "batch", "threads", "samples/s", "ratio mpidl/torch", "seeds",
              f"seconds to {t} (smoothed mean curve)", f"epochs at {t}",
              "final test error: mean ± sd (min-max)"]
    rows = [table_row(name, a, speed, torch_speed, res) for name, speed, res in results]
    body = common.table(header, rows)
    curves = [(name, res["curve"]) for name, _, res in results if res]
    if curves:
        n = min(len(c) for _, c in curves)
        body += "\n" + common.table(
            ["epochs"] + [f"{name.split(' (')[0]} test error, mean ± sd" for name, _ in curves],
            [[f"{curves[0][1][i][0]:.2f}"] + [f"{100 * c[i][2]:.2f} ± {100 * c[i][3]:.2f} %"
                                              for _, c in curves] for i in range(n)])
    body += (f"\nMLP {hidden} Rectifier; init {a.init}"
             f"{f' (scale {a.init_scale:g})' if a.init in ('h2o', 'normal0') else ''}.")
    if not a.no_throughput:
        body += f" Throughput over {a.samples} training samples, evaluation excluded."
    if not a.no_target:
        body += (f" Curves: test set evaluated every {a.eval_every:g} epoch up to "
                 f"{a.max_epochs:g} epochs, evaluation time excluded, seeds "
                 f"{a.seed}..{a.seed + a.seeds - 1}; the time to {t} is read off the mean "
                 f"curve over seeds smoothed by a running mean over {SMOOTH} "
                 f"evaluations (its first crossing), never a single dip.")
    body += "\n"
    for n in notes:
        body += f"\n{n}\n"
    return body


def table_row(name: str, a, speed, torch_speed, res: dict | None) -> list:
    ratio = fmt(speed / torch_speed if speed and torch_speed else None, ".3g")
    if res is None:
        hit_s = hit_e = final = "not run"
    else:
        hit = res["hit"]
        hit_s = fmt(hit and hit[1], ".1f",
                    f"not reached ({res['epochs']:.2f} ep, {res['train_seconds']:.0f} s)")
        hit_e = fmt(hit and hit[0], ".2f", "-")
        final = (f"{100 * res['final_mean']:.2f} ± {100 * res['final_sd']:.2f} % "
                 f"({100 * res['final_min']:.2f}-{100 * res['final_max']:.2f}) "
                 f"at {res['epochs']:.2f} ep")
    return [name, a.batch, a.threads, fmt(speed, ".0f"), ratio, a.seeds if res else "-",
            hit_s, hit_e, final]
