"""mpidl's mini-batch training against PyTorch on CPU: same data, same threads, over seeds.

    python benchmarks/vs_torch.py                       # [1024,1024], batch 128, 2 threads
    python benchmarks/vs_torch.py --samples 2000 --max-epochs 0.2   # a quick trial
    python benchmarks/vs_torch.py --seeds 3 --init torch --inputs x255 --set ...  # parity
    python benchmarks/vs_torch.py --record              # also write the table to RESULTS.md

Two measurements per system, on MNIST (../shared/data/mnist, 60k train / 10k test):

1. Throughput: samples/s of training only (no evaluation) over ``--samples`` samples of a
   ``--hidden`` Rectifier MLP with mini-batches of ``--batch`` rows (``--no-throughput``: skip).
2. Test-error curves: one run per seed (``--seeds`` from ``--seed``) of ``--max-epochs``
   epochs, the 10k test set evaluated every ``--eval-every`` epoch, evaluation time excluded
   from the clock.  Reported: the final error's mean, sd and range over seeds, the mean curve,
   and the training seconds / epochs at which the mean curve, smoothed by a running mean over
   3 evaluations (torch_parity.py), first reaches ``--target`` -- never one run's single dip.

``--init`` gives both systems one initial network per seed (torch_parity.py: PyTorch's
default draw, H2O's N(0, scale) with 0.5/1.0 Rectifier biases, or N(0, scale) with zero
biases): PyTorch gets the tensors, mpidl the same values as ``initial_weights`` /
``initial_biases`` frames (with ``ignore_const_cols = false``, so all 784 inputs).

PyTorch: float32, inputs pixels/255, Adam (lr ``--lr``), CrossEntropyLoss, shuffled every
epoch, ``torch.set_num_threads(--threads)`` and one inter-op thread.  Timed loops include
the per-batch gather of shuffled rows, as mpidl's include its own shuffling.

mpidl: its command line (benchmarks/common.py ``run_mpidl``), H2O parameter names, H2O's
defaults (adaptive ADADELTA, inputs standardized by mpidl) plus ``hidden``, ``activation``,
``mini_batch_size``; ``--set`` adds job parameters (e.g. ``adaptive_rate_method="Adam"``,
``rate=0.001``).  ``--inputs x255`` gives mpidl PyTorch's inputs instead: pixels / 255 in a
frame of their own, with ``standardize = false``.  Its figures come from the model's scoring
history: a row's ``training_speed`` is samples per second of training time excluding
scoring, so the training seconds of a row are ``samples / training_speed``.  Each iteration
is ``--eval-every`` epoch long and scored (``train_samples_per_iteration``,
``score_each_iteration``) on the whole test set (``validation_frame``,
``score_validation_samples = 0``).  A tiny warm-up run first fills numba's compile cache, so
no JIT compilation lands in the timed runs.

Without torch installed the PyTorch rows are skipped with the command that installs it
(``pip install torch==2.13.0``, a CPU build) and mpidl's rows are still measured.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import shlex
import subprocess
import sys
import time

import numpy as np

import common
import torch_parity as parity
from mpidl.errors import UserError
from mpidl.params import parse_override

TORCH_PIN = "torch==2.13.0"
RESPONSE = "C785"


# ---------------------------------------------------------------------------- data for torch
def mnist_arrays(train_csv: str, test_csv: str) -> dict[str, np.ndarray]:
    """MNIST as uint8 pixels [n, 784] and int64 labels, cached as .npy in common.WORKDIR.

    One cache per source path; the CSV is read once with pandas (numpy without it).
    """
    common.WORKDIR.mkdir(parents=True, exist_ok=True)
    out = {}
    for name, src in (("train", train_csv), ("test", test_csv)):
        key = hashlib.sha1(os.path.abspath(src).encode()).hexdigest()[:8]
        fx = common.WORKDIR / f"mnist_{name}_{key}_x.npy"
        fy = common.WORKDIR / f"mnist_{name}_{key}_y.npy"
        if not (fx.exists() and fy.exists()):
            if not os.path.exists(src):
                sys.exit(f"{src}: MNIST not found (pass --train/--test)")
            try:
                import pandas as pd
                a = pd.read_csv(src, header=None, dtype=np.int64).to_numpy()
            except ImportError:
                a = np.loadtxt(src, delimiter=",", dtype=np.int64)
            if a.shape[1] != 785:
                sys.exit(f"{src}: expected 785 columns (784 pixels + label), got {a.shape[1]}")
            np.save(fx, a[:, :784].astype(np.uint8))
            np.save(fy, a[:, 784].astype(np.int64))
        out[f"{name}_x"], out[f"{name}_y"] = np.load(fx), np.load(fy)
    return out


def mnist_x255_h5(data: dict[str, np.ndarray]) -> tuple[str, str]:
    """(train.h5, test.h5) of pixels / 255 (C1..C784) and the digit (C785, categorical),
    written once into common.WORKDIR from ``mnist_arrays``."""
    from mpidl.data.hdf5 import write_table
    out = []
    for name in ("train", "test"):
        path = common.WORKDIR / f"mnist_x255_{name}.h5"
        if not path.exists():
            x = data[f"{name}_x"]
            cols = {f"C{j + 1}": x[:, j] / 255.0 for j in range(x.shape[1])}
            cols["C785"] = data[f"{name}_y"]
            write_table(path, cols, {"C785": [str(d) for d in range(10)]})
        out.append(str(path))
    return out[0], out[1]


# ---------------------------------------------------------------------------- PyTorch
class TorchBench:
    """The PyTorch side: an MLP trained with Adam on pixels/255."""

    def __init__(self, torch, data: dict, hidden: list[int], batch: int, lr: float, seed: int,
                 init: tuple[str, float] = ("none", 0.0)):
        self.torch, self.hidden, self.batch, self.lr, self.seed = torch, hidden, batch, lr, seed
        self.init = init   # (torch_parity kind, weight scale); "none": nn.Linear's own draw
        self.x = torch.from_numpy(data["train_x"].astype(np.float32) / 255.0)
        self.y = torch.from_numpy(data["train_y"])
        self.tx = torch.from_numpy(data["test_x"].astype(np.float32) / 255.0)
        self.ty = torch.from_numpy(data["test_y"])
        self.rows = self.x.shape[0]

    def _fresh(self):
        torch, nn = self.torch, self.torch.nn
        torch.manual_seed(self.seed)
        layers, n_in = [], self.x.shape[1]
        for h in self.hidden:
            layers += [nn.Linear(n_in, h), nn.ReLU()]
            n_in = h
        layers.append(nn.Linear(n_in, int(self.y.max()) + 1))
        net = nn.Sequential(*layers)
        if self.init[0] != "none":
            units = [self.x.shape[1], *self.hidden, int(self.y.max()) + 1]
            parity.load_into_torch(torch, net, parity.init_tensors(self.init[0], units,
                                                                   self.init[1], self.seed))
        opt = torch.optim.Adam(net.parameters(), lr=self.lr)
        gen = torch.Generator().manual_seed(self.seed)
        return net, opt, gen, nn.CrossEntropyLoss()

    def _sampler(self, gen):
        """take(n): the next <= n shuffled row indices; reshuffled at every epoch start."""
        state = {"perm": None, "pos": self.rows}

        def take(n: int):
            if state["pos"] >= self.rows:
                state["perm"] = self.torch.randperm(self.rows, generator=gen)
                state["pos"] = 0
            i = state["pos"]
            state["pos"] = min(self.rows, i + n)
            return state["perm"][i:state["pos"]]
        return take

    @staticmethod
    def _step(net, opt, loss_fn, xb, yb):
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(net(xb), yb)
        loss.backward()
        opt.step()

    def test_error(self, net) -> float:
        torch = self.torch
        net.eval()
        with torch.no_grad():
            wrong = 0
            for i in range(0, self.tx.shape[0], 2500):
                pred = net(self.tx[i:i + 2500]).argmax(1)
                wrong += int((pred != self.ty[i:i + 2500]).sum())
        net.train()
        return wrong / self.tx.shape[0]

    def throughput(self, samples: int, warmup_batches: int = 5) -> float:
        """Samples/s over ``samples`` training samples (after a few untimed warm-up batches)."""
        net, opt, gen, loss_fn = self._fresh()
        take = self._sampler(gen)
        for _ in range(warmup_batches):
            idx = take(self.batch)
            self._step(net, opt, loss_fn, self.x[idx], self.y[idx])
        done, t0 = 0, time.perf_counter()
        while done < samples:
            idx = take(min(self.batch, samples - done))
            self._step(net, opt, loss_fn, self.x[idx], self.y[idx])
            done += idx.shape[0]
        return done / (time.perf_counter() - t0)

    def curve(self, eval_rows: int, max_epochs: float, log) -> list[tuple]:
        """[(epochs, training seconds, test error)] at every evaluation up to ``max_epochs``
        (evaluations not timed)."""
        net, opt, gen, loss_fn = self._fresh()
        take = self._sampler(gen)
        cap = int(round(max_epochs * self.rows))
        done, next_eval, train_s, out = 0, min(eval_rows, cap), 0.0, []
        while done < cap:
            t0 = time.perf_counter()
            while done < next_eval:
                idx = take(min(self.batch, next_eval - done))
                self._step(net, opt, loss_fn, self.x[idx], self.y[idx])
                done += idx.shape[0]
            train_s += time.perf_counter() - t0
            err = self.test_error(net)
            log(f"  torch seed {self.seed}: epochs {done / self.rows:6.3f}  train "
                f"{train_s:7.1f}s  test err {100 * err:.2f} %")
            out.append((done / self.rows, train_s, err))
            next_eval = min(next_eval + eval_rows, cap)
        return out


def import_torch(threads: int):
    """torch with ``threads`` intra-op and one inter-op thread, or None when not installed."""
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(threads)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:  # already set (or parallel work already started)
        pass
    return torch


# ---------------------------------------------------------------------------- mpidl
def mpidl_streamed(params: dict, threads: int, tag: str, log, timeout: float) -> dict:
    """Train through the CLI, streaming its progress lines with a test error to ``log``.

    Like common.run_mpidl (same job file, command and environment), but reads the progress
    lines as they come; returns the model's ``inspect --json`` object plus ``wall``.
    """
    cmd, model, env = common.prepare_run(params, threads, 1, tag)
    pat = re.compile(r"valid err [0-9.eE+-]+")
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                         env=env, cwd=common.ROOT)
    lines = []
    try:
        for line in p.stdout:
            lines.append(line)
            if pat.search(line):
                log("  mpidl: " + line.strip())
            if time.perf_counter() - t0 > timeout:
                p.kill()
                break
        rc = p.wait()
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    wall = time.perf_counter() - t0
    if rc != 0 or not model.exists():
        raise RuntimeError(f"{shlex.join(cmd)} failed ({rc}): {''.join(lines).strip()[-800:]}")
    info = common.inspect(str(model))
    info["wall"] = wall
    return info


def train_seconds(row: dict) -> float:
    """Training seconds (scoring excluded) up to a history row: samples / training_speed."""
    return row["samples"] / row["training_speed"] if row["training_speed"] > 0 else float("nan")


def mpidl_base(train_h5: str, hidden: list[int], batch: int, seed: int) -> dict:
    return {"training_frame": train_h5, "response_column": RESPONSE, "hidden": hidden,
            "activation": "Rectifier", "mini_batch_size": batch, "seed": seed,
            "score_training_samples": 1000}


# ---------------------------------------------------------------------------- main
def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--hidden", default="1024,1024")
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--samples", type=int, default=60000,
                    help="training samples timed for throughput (default 60000 = 1 epoch)")
    ap.add_argument("--no-throughput", action="store_true", help="curves only")
    ap.add_argument("--target", type=float, default=0.02, help="test error to reach")
    ap.add_argument("--max-epochs", type=float, default=8.0, help="epochs of each curve")
    ap.add_argument("--eval-every", type=float, default=0.25, help="epochs between evaluations")
    ap.add_argument("--lr", type=float, default=1e-3, help="PyTorch Adam learning rate")
    ap.add_argument("--seed", type=int, default=1, help="first seed")
    ap.add_argument("--seeds", type=int, default=1, help="curves per system (seeds from --seed)")
    ap.add_argument("--init", choices=parity.INITS, default="none",
                    help="one initial network for both systems (torch_parity.py); none: each "
                         "its own")
    ap.add_argument("--init-scale", type=float, default=0.03,
                    help="N(0, scale) weights of --init h2o / normal0")
    ap.add_argument("--systems", default="torch,mpidl", help="comma list of torch, mpidl")
    ap.add_argument("--no-target", action="store_true", help="throughput only")
    ap.add_argument("--set", dest="extra", action="append", default=[],
                    help="extra mpidl job parameter key=value (TOML value), both mpidl runs")
    ap.add_argument("--inputs", choices=("standardized", "x255"), default="standardized",
                    help="mpidl's inputs: standardized by mpidl (H2O's default), or pixels/255 "
                         "as PyTorch gets them (standardize = false)")
    ap.add_argument("--timeout", type=float, default=7200, help="seconds per mpidl run")
    ap.add_argument("--train", default=str(common.MNIST / "train.csv.gz"))
    ap.add_argument("--test", default=str(common.MNIST / "test.csv.gz"))
    ap.add_argument("--record", action="store_true", help="write the table to RESULTS.md")
    ap.add_argument("--record-as", default="vs_torch",
                    help="RESULTS.md section key (one section per key; default vs_torch)")
    return ap.parse_args()


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def seeds_of(a) -> range:
    return range(a.seed, a.seed + a.seeds)


def run_torch(a, hidden: list[int], notes: list) -> tuple:
    """(samples/s or None, seed summary or None, row name) of the PyTorch side."""
    torch = import_torch(a.threads)
    if torch is None:
        msg = (f"PyTorch is not installed: its rows are skipped. Install the CPU build "
               f"with: pip install {TORCH_PIN}")
        print(msg)
        notes.append(msg)
        return None, None, None
    data = mnist_arrays(a.train, a.test)
    bench = [TorchBench(torch, data, hidden, a.batch, a.lr, s, (a.init, a.init_scale))
             for s in seeds_of(a)]
    speed = None
    if not a.no_throughput:
        log(f"torch {torch.__version__}: throughput over {a.samples} samples ...")
        speed = bench[0].throughput(a.samples)
        log(f"  torch: {speed:.0f} samples/s")
    res = None
    if not a.no_target:
        eval_rows = max(1, round(a.eval_every * bench[0].rows))
        res = parity.summary([tb.curve(eval_rows, a.max_epochs, log) for tb in bench], a.target)
    return speed, res, f"PyTorch {torch.__version__} (Adam {a.lr:g}, x/255)"


def mpidl_curve(a, base: dict, test_h5: str, rows_train: int, extra: dict, seed: int) -> list:
    """[(epochs, training seconds, test error)] of one mpidl run of ``a.max_epochs``."""
    params = {**base, "seed": seed, "validation_frame": test_h5, "score_validation_samples": 0,
              "epochs": a.max_epochs, "stopping_rounds": 0,
              "train_samples_per_iteration": max(1, round(a.eval_every * rows_train)),
              "score_each_iteration": True, **extra}
    if a.init != "none":
        units = [784, *base["hidden"], 10]
        params.update(parity.init_frames(a.init, units, a.init_scale, seed),
                      ignore_const_cols=False)   # all 784 inputs, as the frames have
    info = mpidl_streamed(params, a.threads, f"vs_torch_curve{seed}", log, a.timeout)
    return [(r["epochs"], train_seconds(r), r["validation_classification_error"])
            for r in info["scoring_history"] if "validation_classification_error" in r
            and r["epochs"] > 0]


def run_mpidl(a, hidden: list[int], extra: dict) -> tuple:
    """(samples/s or None, seed summary or None, row name) of the mpidl side."""
    if a.inputs == "x255":
        train_h5, test_h5 = mnist_x255_h5(mnist_arrays(a.train, a.test))
        extra = {"standardize": False, **extra}
    else:
        train_h5, test_h5 = common.mnist_h5(a.train, a.test)
    base = mpidl_base(train_h5, hidden, a.batch, a.seed)
    from mpidl.data.hdf5 import read_info
    rows_train = read_info(train_h5).nrows
    log("mpidl: warm-up (numba compile cache) ...")
    warm = min(rows_train, 4 * a.batch)
    common.run_mpidl({**base, "epochs": warm / rows_train,
                      "train_samples_per_iteration": warm, **extra},
                     a.threads, tag="vs_torch_warmup")
    speed = None
    if not a.no_throughput:
        log(f"mpidl: throughput over {a.samples} samples ...")
        thr = common.run_mpidl({**base, "epochs": a.samples / rows_train,
                                "train_samples_per_iteration": a.samples,
                                "score_duty_cycle": 0.0, **extra},
                               a.threads, timeout=a.timeout, tag="vs_torch_speed")
        speed = thr["speed"]
        log(f"  mpidl: {speed:.0f} samples/s ({thr['wall']:.0f} s wall)")
    res = None
    if not a.no_target:
        res = parity.summary([mpidl_curve(a, base, test_h5, rows_train, extra, s)
                              for s in seeds_of(a)], a.target)
    method = extra.get("adaptive_rate_method", "ADADELTA")
    name = (f"mpidl ({method if extra.get('adaptive_rate', True) else 'manual rate'}, "
            f"{'x/255' if a.inputs == 'x255' else 'standardized'})")
    shown = {k: v for k, v in extra.items() if k != "standardize"}
    if shown:
        name += " " + " ".join(f"{k}={common.toml_value(v)}" for k, v in shown.items())
    return speed, res, name


def main() -> int:
    a = parse_args()
    hidden = [int(h) for h in a.hidden.split(",")]
    systems = {s.strip() for s in a.systems.split(",") if s.strip()}
    if not systems <= {"torch", "mpidl"}:
        sys.exit(f"--systems {a.systems}: choose from torch, mpidl")
    if a.seeds < 1:
        sys.exit(f"--seeds {a.seeds}: must be at least 1")
    try:
        extra = dict(parse_override(item) for item in a.extra)
    except UserError as e:
        sys.exit(str(e))
    notes, results = [], []
    torch_speed = None
    if "torch" in systems:
        torch_speed, res, name = run_torch(a, hidden, notes)
        if name:
            results.append((name, torch_speed, res))
    if "mpidl" in systems:
        speed, res, name = run_mpidl(a, hidden, extra)
        results.append((name, speed, res))
    body = parity.report(a, hidden, results, torch_speed, notes)
    print()
    print(body)
    if a.record:
        common.record(a.record_as, f"mpidl vs PyTorch on CPU (MNIST {hidden}, batch {a.batch}, "
                      f"{a.threads} threads, {a.seeds} seed(s))", body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
