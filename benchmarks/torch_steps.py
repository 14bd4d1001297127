"""mpidl's mini-batch Adam step by step against torch.optim.Adam: the same network, rows and order.

    python benchmarks/torch_steps.py                 # 20 batches of 128 MNIST rows, [64,64]
    python benchmarks/torch_steps.py --batches 2 --rate-annealing 1e-6

Both start from one initial network (torch_parity.py ``torch``: nn.Linear's draw, given to
mpidl as initial_weights / initial_biases frames) and train ``--batches`` batches of
``--batch`` rows of MNIST (pixels / 255) in file order: PyTorch with Adam (lr 1e-3) and
CrossEntropyLoss, mpidl on 1 thread with ``mini_batch_size``, Adam, rate 1e-3, one iteration
of one epoch over exactly those rows (no shuffling, all 784 inputs, ``rate_annealing`` as
given, 0 by default as PyTorch has none).  Printed per weight layer: the largest change of a
weight by PyTorch and the largest difference of mpidl's weights and biases from PyTorch's.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

import common
import torch_parity as parity
import vs_torch


def mpidl_job(frame: str, hidden: list[int], batch: int, annealing: float, init: dict) -> str:
    """The job file's text: one epoch of ``frame`` in file order, in one iteration."""
    def paths(v):
        return "[" + ", ".join(f'"{p}"' for p in v) + "]"
    return "\n".join([
        f'training_frame = "{frame}"', 'response_column = "C785"', f"hidden = {hidden}",
        'activation = "Rectifier"', f"mini_batch_size = {batch}",
        'adaptive_rate_method = "Adam"', "rate = 0.001", f"rate_annealing = {annealing!r}",
        "standardize = false", "ignore_const_cols = false", "shuffle_training_data = false",
        "reproducible = false", "epochs = 1", "train_samples_per_iteration = 0", "seed = 1",
        f"initial_weights = {paths(init['initial_weights'])}",
        f"initial_biases = {paths(init['initial_biases'])}", ""])


def torch_steps(torch, layers, x, y, hidden: list[int], batch: int):
    """nn.Sequential after len(x) / batch Adam steps from ``layers``; (net, initial params)."""
    nn, mods, n_in = torch.nn, [], x.shape[1]
    for h in hidden:
        mods += [nn.Linear(n_in, h), nn.ReLU()]
        n_in = h
    net = nn.Sequential(*mods, nn.Linear(n_in, 10))
    parity.load_into_torch(torch, net, layers)
    start = [p.detach().clone().numpy() for p in net.parameters()]
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    X, Y = torch.from_numpy(x.astype(np.float32)), torch.from_numpy(y)
    for s in range(0, len(y), batch):
        opt.zero_grad()
        nn.functional.cross_entropy(net(X[s:s + batch]), Y[s:s + batch]).backward()
        opt.step()
    return net, start


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--batches", type=int, default=20)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--hidden", default="64,64")
    ap.add_argument("--rate-annealing", type=float, default=0.0)
    a = ap.parse_args()
    import torch
    torch.set_num_threads(1)
    hidden = [int(h) for h in a.hidden.split(",")]
    units = [784, *hidden, 10]
    data = vs_torch.mnist_arrays(str(common.MNIST / "train.csv.gz"),
                                 str(common.MNIST / "test.csv.gz"))
    n = a.batch * a.batches
    x, y = data["train_x"][:n].astype(np.float64) / 255.0, data["train_y"][:n]
    from mpidl.data.hdf5 import write_table
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        cols = {f"C{j + 1}": x[:, j] for j in range(784)}
        cols["C785"] = y
        write_table(d / "rows.h5", cols, {"C785": [str(k) for k in range(10)]})
        init = parity.init_frames("torch", units, 0.0, 7)
        (d / "job.toml").write_text(mpidl_job(str(d / "rows.h5"), hidden, a.batch,
                                              a.rate_annealing, init))
        (d / "w").mkdir()
        for cmd in (["train", str(d / "job.toml"), "-o", str(d / "m.h5"), "--threads", "1"],
                    ["export", str(d / "m.h5"), "--weights", str(d / "w")]):
            subprocess.run([sys.executable, "-m", "mpidl", *cmd], check=True,
                           capture_output=True)
        mine = [(np.load(d / f"w/weights_{l}.npy"), np.load(d / f"w/biases_{l}.npy").ravel())
                for l in range(len(units) - 1)]
    net, start = torch_steps(torch, parity.init_tensors("torch", units, 0.0, 7), x, y,
                             hidden, a.batch)
    theirs = [p.detach().numpy() for p in net.parameters()]
    print(f"{a.batches} batches of {a.batch}, rate_annealing {a.rate_annealing:g}")
    for l, (w, b) in enumerate(mine):
        moved = np.abs(theirs[2 * l] - start[2 * l]).max()
        print(f"layer {l}: PyTorch moved a weight by up to {moved:.3g}; mpidl - PyTorch: "
              f"weights {np.abs(w - theirs[2 * l]).max():.3g}, "
              f"biases {np.abs(b - theirs[2 * l + 1]).max():.3g}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
