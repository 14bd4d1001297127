"""mpidl next to H2O-3 on MNIST: the single-node study of H2O's Deep Learning tuning guide.

    pip install h2o                      # benchmark-only; bundles h2o.jar, needs Java 8+
    python benchmarks/vs_h2o.py --quick  # 3 rows, few samples: a check that both sides work
    python benchmarks/vs_h2o.py --threads 2 --record
    python benchmarks/vs_h2o.py --rows topology --scale 2
    python benchmarks/vs_h2o.py --list   # the row keys that --rows accepts

The guide is h2o-3 ``h2o-docs/src/product/tutorials/dl/dlperf.Rmd`` ("Part 1 - Single-Node
Training Speed").  Its three studies are reproduced with both systems in one run, on the same
CSV files (``../shared/data/mnist``, response ``C785`` as a factor), the same thread count and
the same requested epochs:

* topology: hidden [64] ... [1024,1024,1024] (15 rows), Rectifier, ADADELTA, all defaults;
* activation on [1024,1024]: Rectifier, RectifierWithDropout, Tanh, TanhWithDropout, Maxout
  (the guide left Maxout out; it is here because mpidl implements it);
* learning rate on [1024,1024] Rectifier, the guide's four rows: adaptive (ADADELTA defaults
  rho=0.99, epsilon=1e-8), adaptive with rho=0.95 epsilon=1e-6, manual with H2O's defaults
  (rate=0.005, no momentum), manual rate=1e-3 with momentum 0.5 -> 0.99 over 1e5 samples.

Every run sets ``score_training_samples=100, score_duty_cycle=0`` (the guide's "scoring
reduced to a minimum"), ``seed=1, reproducible=false`` (Hogwild on all threads),
``train_samples_per_iteration=-2`` (default; the guide's 1000 in the activation study only
changes how often scoring may happen, and with a duty cycle of 0 it never does before the end)
and ``overwrite_with_best_model=false``: H2O scores once, at the end, so the flag changes
nothing there, while mpidl also scores after its first iteration and must not roll back to it.

Sample counts.  The guide trains 0.1 epochs (6,000 samples) for every topology on 6 cores; on
this 2-core VM that is ~7 s of H2O for [64] but ~3 min for [1024,1024].  Here each row
asks for ``epochs = clamp(BUDGET * scale / n_params / 60000, 0.005, 1)`` (2 digits), with
n_params H2O's count of weights and biases of the Rectifier net (717 non-constant inputs), so
that one H2O run takes very roughly the same time (10-30 s on the shared VM; Tanh rows about
3x that) whatever the model size; ``--scale`` multiplies them all.  Both systems get
that same ``epochs``; each stops at the end of the iteration that reaches it, so the samples
actually trained differ a little and both counts are shown.

The clocks.  Both speeds are H2O's own scoring-history ``training_speed`` of the last row:
samples trained / (training time - scoring time - setup time), i.e. from the first training
row to the end of training with scoring excluded (H2O ``DeepLearningModel``; mpidl computes the
same, see ``benchmarks/common.py``).  The guide itself divided samples by the model's whole
``run_time`` (scoring and setup included); that figure is printed in the per-run log line as
``guide clock`` for H2O, not in the table.  Test error is 1 - accuracy on the full 10,000-row
test set, computed after training and never timed: for H2O from
``model_performance(test)``'s confusion matrix (the guide's ``cm$prediction_error``), for mpidl
from ``validation_metrics.classification_error`` with the test set as validation frame
(``score_validation_samples=0``).

H2O runs in one JVM started by this script through ``H2OLocalServer`` (``nthreads=--threads``,
Java assertions off, which ``h2o.init`` leaves on; a fresh port, never a cluster someone else
started) and shut down at exit, also on error or SIGTERM.  Before the
table both systems train one short unreported model, so the JVM's JIT and numba's cache are warm
(``--no-warmup`` to skip).  With ``train_samples_per_iteration=-2`` H2O always makes at least
~10 iterations (its auto-tuning clamps one iteration to epochs/10), so both systems' short runs
carry some per-iteration cost; mpidl, several times faster, trains each row for only a few
seconds, which understates rather than flatters its speed.  Both clocks move by 2-4x between
runs when other jobs share the cores: measure on quiet cores.

Without the ``h2o`` package or ``java`` on PATH (or with ``--no-h2o``) the H2O columns read
n/a, one line says why, and the script still exits 0.  A row whose H2O model fails reads
"failed" there and the other rows go on.
"""

from __future__ import annotations

import argparse
import atexit
import re
import shutil
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

N_INPUTS, N_CLASSES, N_TRAIN = 717, 10, 60000
# Samples x parameters per row.  H2O 3.46 trained 4e7-8e7 of these per second on this 2-core VM
# while it was shared (load 4); 1e9 aims at ~10 s per H2O run on quiet cores.
BUDGET = 1e9
TOPOLOGIES = [[u] * depth for depth in (1, 2, 3) for u in (64, 128, 256, 512, 1024)]
ACTIVATIONS = ["Rectifier", "RectifierWithDropout", "Tanh", "TanhWithDropout", "Maxout"]
RATES = [
    ("adaptive", {"adaptive_rate": True}),
    ("adaptive rho=0.95 eps=1e-6", {"adaptive_rate": True, "rho": 0.95, "epsilon": 1e-6}),
    ("manual rate=0.005", {"adaptive_rate": False}),
    ("manual rate=1e-3 momentum 0.5->0.99/1e5",
     {"adaptive_rate": False, "rate": 1e-3, "momentum_start": 0.5, "momentum_ramp": 1e5,
      "momentum_stable": 0.99}),
]
# accuracy at equal samples: H2O's default net for 1 epoch, the speed study's [1024,1024] for
# 0.1 epoch (the guide's sample count) and for the speed rows' own 0.019 epoch (~1,150 samples,
# where one run's test error moves by about 2 points, so only means over many runs compare)
ACCURACY = [("acc-200x200", [200, 200], 1.0), ("acc-1024x1024", [1024, 1024], 0.1),
            ("acc-1024x1024-short", [1024, 1024], 0.019)]
QUICK = ["t64", "t256x256", "rate-manual"]
COMMON = {"score_training_samples": 100, "score_duty_cycle": 0.0, "seed": 1,
          "reproducible": False, "overwrite_with_best_model": False}


def study_rows() -> list[dict]:
    """Every row of the study: key, group, label, and the job parameters beyond COMMON."""
    rows = []
    for h in TOPOLOGIES:
        rows.append({"key": "t" + "x".join(map(str, h)), "group": "topology",
                     "label": f"{h} Rectifier", "params": {"hidden": h}})
    for a in ACTIVATIONS:
        rows.append({"key": f"act-{a}", "group": "activation", "label": f"[1024, 1024] {a}",
                     "params": {"hidden": [1024, 1024], "activation": a}})
    for (label, extra), key in zip(RATES, ("rate-adaptive", "rate-adaptive2",
                                           "rate-manual", "rate-momentum")):
        rows.append({"key": key, "group": "rate", "label": f"[1024, 1024] {label}",
                     "params": {"hidden": [1024, 1024], **extra}})
    for key, h, epochs in ACCURACY:
        rows.append({"key": key, "group": "accuracy", "label": f"{h} Rectifier, {epochs} epoch",
                     "params": {"hidden": h}, "epochs": epochs})
    return rows


def n_params(hidden: list[int]) -> int:
    """H2O's count of weights and biases of a Rectifier net on MNIST (717 inputs, 10 classes)."""
    units = [N_INPUTS] + list(hidden) + [N_CLASSES]
    return sum(units[i + 1] * (units[i] + 1) for i in range(len(units) - 1))


def epochs_for(row: dict, scale: float) -> float:
    """The requested epochs of one row (same for both systems; by topology only, so that all
    rows of the activation and rate studies train the same samples; fixed for accuracy rows)."""
    if "epochs" in row:
        return row["epochs"]
    n = n_params(row["params"]["hidden"])
    return min(1.0, max(0.005, float(f"{BUDGET * scale / n / N_TRAIN:.2g}")))


def select(rows: list[dict], spec: str | None, quick: bool) -> list[dict]:
    """Rows named by ``spec`` (comma-separated keys or group names), or QUICK, or all rows of
    the speed study (topology, activation, rate; the accuracy group only when named)."""
    if spec is None:
        return [r for r in rows if (r["key"] in QUICK if quick else r["group"] != "accuracy")]
    wanted = [s.strip() for s in spec.split(",") if s.strip()]
    known = {r["key"] for r in rows} | {r["group"] for r in rows}
    bad = [w for w in wanted if w not in known]
    if bad:
        sys.exit(f"--rows: unknown {', '.join(bad)} (see --list)")
    return [r for r in rows if r["key"] in wanted or r["group"] in wanted]


# ---------------------------------------------------------------------------------- H2O side
def h2o_unavailable(no_h2o: bool) -> str | None:
    """Why H2O cannot run here, or None."""
    if no_h2o:
        return "--no-h2o given"
    try:
        import h2o  # noqa: F401
    except ImportError:
        return "the h2o Python package is not installed (pip install h2o)"
    if shutil.which("java") is None:
        return "java is not on PATH (H2O needs a Java 8+ runtime)"
    return None


class H2OSide:
    """One local H2O JVM with MNIST loaded; ``run`` trains and scores one row."""

    def __init__(self, threads: int, mem: str, train_csv: str, test_csv: str):
        import h2o
        from h2o.backend import H2OLocalServer
        self.h2o = h2o
        self.server = H2OLocalServer.start(nthreads=threads, max_mem_size=common.mem_bytes(mem),
                                           enable_assertions=False, port="54621+",
                                           verbose=False)
        atexit.register(self.close)
        h2o.connect(server=self.server, verbose=False, strict_version_check=False)
        h2o.no_progress()
        self.version = h2o.cluster().version
        self.train = h2o.import_file(train_csv, header=-1)
        self.test = h2o.import_file(test_csv, header=-1)
        for f in (self.train, self.test):
            f["C785"] = f["C785"].asfactor()
        self.x = [c for c in self.train.names if c != "C785"]

    def run(self, params: dict, epochs: float) -> dict:
        """Train one model; speed, samples, epochs, guide-clock speed and test error."""
        import warnings
        from h2o.estimators import H2ODeepLearningEstimator
        m = H2ODeepLearningEstimator(epochs=epochs, **{**COMMON, **params})
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")   # "Dropping bad and constant columns" every time
            m.train(x=self.x, y="C785", training_frame=self.train)
        out = m._model_json["output"]
        hist = out["scoring_history"]
        last = dict(zip(hist.col_header, hist.cell_values[-1]))
        samples = float(last["samples"])
        speed = float(re.match(r"\s*([\d.eE+-]+)", str(last["training_speed"])).group(1))
        res = {"speed": speed, "samples": int(samples), "epochs": float(last["epochs"]),
               "run_time": out["run_time"] / 1000.0,
               "guide_speed": samples / max(1e-9, out["run_time"] / 1000.0)}
        res["test_error"] = self._test_error(m.model_performance(self.test))
        self.h2o.remove(m)
        return res

    @staticmethod
    def _test_error(perf) -> float:
        """1 - accuracy: the Error cell of the confusion matrix's Totals row."""
        cm = perf.confusion_matrix()
        cm = getattr(cm, "table", cm)
        header = [str(h) for h in cm.col_header]
        return float(cm.cell_values[-1][header.index("Error")])

    def close(self) -> None:
        """Shut the JVM down (idempotent; registered with atexit)."""
        if self.server is None:
            return
        try:
            self.h2o.cluster().shutdown()
        except Exception:
            pass
        try:
            self.server.shutdown()
        except Exception:
            pass
        self.server = None


# -------------------------------------------------------------------------------- mpidl side
def mpidl_run(params: dict, epochs: float, threads: int, train_h5: str, test_h5: str,
              tag: str) -> dict:
    """Train one model with mpidl (1 rank); speed, samples, epochs and test error."""
    job = {"training_frame": train_h5, "validation_frame": test_h5, "response_column": "C785",
           "epochs": epochs, "score_validation_samples": 0, **COMMON, **params}
    info = common.run_mpidl(job, threads, ranks=1, tag=tag)
    last = info["scoring_history"][-1]
    return {"speed": float(info["speed"]), "samples": int(last["samples"]),
            "epochs": float(last["epochs"]), "wall": info["wall"],
            "test_error": float(info["validation_metrics"]["classification_error"])}


# ------------------------------------------------------------------------------------ report
def mean_result(results: list[dict]) -> dict | None:
    """The mean speed, samples and test error of repeated runs (None for no run), and the
    standard error of the mean test error (``test_error_se``; None for a single run)."""
    if not results:
        return None
    n = len(results)
    out = {k: sum(r[k] for r in results) / n for k in ("speed", "samples", "test_error")}
    out["test_error_se"] = (None if n < 2 else
                            statistics.stdev(r["test_error"] for r in results) / n ** 0.5)
    return out


def error_cell(res: dict) -> str:
    """A test error in percent, with '± standard error' when it is a mean of several runs."""
    se = res.get("test_error_se")
    return f"{100 * res['test_error']:.2f} %" + (f" ± {100 * se:.2f}" if se is not None else "")


def table_row(row: dict, epochs: float, h: dict | None, m: dict | None,
              h_none: str = "n/a") -> list:
    """One table row; ``h_none`` fills H2O's cells when it has no result (n/a or failed)."""
    ratio = f"{m['speed'] / h['speed']:.2f}" if h and m and h["speed"] > 0 else "n/a"
    hc = [f"{h['samples']:,.0f}", f"{h['speed']:.0f}", error_cell(h)] if h else [h_none] * 3
    mc = [f"{m['samples']:,.0f}", f"{m['speed']:.0f}", error_cell(m)] if m else ["failed"] * 3
    return [row["label"], f"{epochs:g}", hc[0], mc[0], hc[1], mc[1], ratio, hc[2], mc[2]]


HEADER = ["run", "epochs asked", "H2O samples", "mpidl samples", "H2O samples/s",
          "mpidl samples/s", "ratio (mpidl/H2O)", "H2O test error", "mpidl test error"]


def java_version() -> str:
    try:
        r = subprocess.run(["java", "-version"], capture_output=True, text=True, timeout=30)
        return (r.stderr or r.stdout).splitlines()[0].strip()
    except (OSError, IndexError, subprocess.SubprocessError):
        return "unknown"


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--threads", type=int, default=2, help="H2O nthreads and mpidl --threads")
    ap.add_argument("--rows", help="comma-separated row keys or groups "
                    "(topology, activation, rate, accuracy); default: the first three")
    ap.add_argument("--quick", action="store_true",
                    help=f"rows {','.join(QUICK)} at --scale 0.1 (unless given): a trial")
    ap.add_argument("--scale", type=float, help="multiply every row's epochs (default 1)")
    ap.add_argument("--mem", default="4g", help="H2O max_mem_size (default 4g)")
    ap.add_argument("--train", default=str(common.MNIST / "train.csv.gz"))
    ap.add_argument("--test", default=str(common.MNIST / "test.csv.gz"))
    ap.add_argument("--no-h2o", action="store_true", help="run mpidl's column only")
    ap.add_argument("--repeats", type=int, default=1,
                    help="accuracy rows: train each system this many times (seeds 1..N) and "
                    "report the means (Hogwild runs differ by a point or so)")
    ap.add_argument("--no-warmup", action="store_true",
                    help="skip the unreported warm-up model of each system")
    ap.add_argument("--list", action="store_true", help="print the row keys and exit")
    ap.add_argument("--record", action="store_true",
                    help="put the table into benchmarks/RESULTS.md (section vs_h2o)")
    a = ap.parse_args()
    scale = a.scale if a.scale is not None else (0.1 if a.quick else 1.0)
    rows = select(study_rows(), a.rows, a.quick)
    if a.list:
        for r in rows:
            print(f"{r['key']:<25} {r['group']:<11} {r['label']:<54} "
                  f"epochs {epochs_for(r, scale):g}")
        return 0
    train_h5, test_h5 = common.mnist_h5(a.train, a.test)

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))   # so that the JVM is shut down
    why = h2o_unavailable(a.no_h2o)
    side = None
    if why:
        log(f"H2O skipped: {why}; its columns read n/a.")
    else:
        t0 = time.perf_counter()
        side = H2OSide(a.threads, a.mem, a.train, a.test)
        log(f"H2O {side.version} up with MNIST loaded in {time.perf_counter() - t0:.0f} s")
    try:
        if not a.no_warmup:
            warm = {"hidden": [128, 128]}
            t0 = time.perf_counter()
            if side:
                side.run(warm, 0.05)
            mpidl_run(warm, 0.02, a.threads, train_h5, test_h5, "vs_h2o_warmup")
            log(f"warm-up done in {time.perf_counter() - t0:.0f} s")
        out = []
        for row in rows:
            epochs = epochs_for(row, scale)
            accuracy = row["group"] == "accuracy"
            hs, ms, h_none = [], [], "n/a"
            for rep in range(a.repeats if accuracy else 1):
                params = {**row["params"], "seed": 1 + rep}
                h = None
                if side:
                    try:
                        h = side.run(params, epochs)
                    except Exception as e:   # one failed H2O model must not lose the other rows
                        log(f"H2O   {row['label']}: {type(e).__name__}: {str(e)[-400:]}")
                        h_none = "failed"
                if h:
                    hs.append(h)
                    log(f"H2O   {row['label']}: {h['samples']} samples "
                        f"({h['epochs']:.4g} epochs), {h['speed']:.0f}/s (guide clock "
                        f"{h['guide_speed']:.0f}/s over {h['run_time']:.1f} s), "
                        f"test error {100 * h['test_error']:.2f} %")
                # accuracy rows: mpidl trains the samples H2O actually trained (H2O overshoots
                # the asked epochs by up to an iteration), in 10 iterations that end on that
                # count, so both errors are at equal samples
                m_epochs, m_params = epochs, params
                if h and accuracy:
                    m_epochs = h["samples"] / N_TRAIN
                    m_params = {**params, "train_samples_per_iteration": -(-h["samples"] // 10)}
                try:
                    m = mpidl_run(m_params, m_epochs, a.threads, train_h5, test_h5,
                                  f"vs_h2o_{row['key']}")
                    ms.append(m)
                    log(f"mpidl {row['label']}: {m['samples']} samples "
                        f"({m['epochs']:.4g} epochs), {m['speed']:.0f}/s "
                        f"(wall {m['wall']:.1f} s), test error {100 * m['test_error']:.2f} %")
                except RuntimeError as e:
                    log(f"mpidl {row['label']}: {e}")
            out.append(table_row(row, epochs, mean_result(hs), mean_result(ms), h_none))
    finally:
        if side:
            side.close()

    body = common.table(HEADER, out)
    h2o_note = (f"H2O {side.version} ({java_version()}, nthreads={a.threads}, "
                f"max_mem_size={a.mem})" if side else f"H2O not run: {why}")
    notes = (f"\n{h2o_note}; mpidl 1 rank x {a.threads} threads. samples/s: H2O's "
             "scoring-history training_speed of both (training time excluding scoring and "
             "setup); samples: actually trained (epochs x 60,000); test error: full "
             "10,000-row test set after training. "
             "score_training_samples=100, score_duty_cycle=0, seed=1, Hogwild. Accuracy rows: "
             "mpidl trains the samples H2O trained"
             + (f"; means of {a.repeats} runs of each system (seeds 1..{a.repeats})"
                + "; a ± figure is the standard error of that mean"
                if a.repeats > 1 else "") + ".\n")
    print(body + notes)
    if a.record:
        key = "vs_h2o" if a.rows is None else "vs_h2o_" + a.rows.replace(",", "_")
        common.record(key, "mpidl vs H2O-3 on MNIST (H2O's single-node tuning study"
                      + (f": {a.rows})" if a.rows else ")"), body + notes)
    return 0


if __name__ == "__main__":
    sys.exit(main())
