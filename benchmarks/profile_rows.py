"""Where the time of one training row goes, and how far it is from this machine's limits.

    python benchmarks/profile_rows.py --hidden 1024,1024 --threads 2 --record

On MNIST (one rank), for the online Hogwild kernel and the mini-batch kernel, measures:
  * forward      - the test-time forward pass of the row kernel (1 thread), per row;
  * train        - forward + backward + update of the online kernel (1 thread), per row;
  * back+update  - train minus forward (backprop and the update are one fused pass);
  * Hogwild      - the online kernel with --threads threads, per row;
  * averaging    - one allreduce of the model between 2 ranks divided by the rows of an
                   auto-tuned iteration (from a 2-rank run through mpirun);
  * scoring      - scoring 10,000 rows (dense block path), per scored row;
  * mini-batch   - the mini-batch kernel (batch 128) with --threads threads, per row.
For the online kernel the bytes the update streams (weights + ADADELTA state of every weight
row whose source activation is non-zero: 3 float32 read and written) give the achieved memory
bandwidth; for the mini-batch kernel the multiply-adds of the three matrix products give the
achieved GFLOP/s.  Limits for this machine: ~35 GB/s memory, ~190 GFLOP/s sgemm (2 cores).
"""

from __future__ import annotations

import argparse
import time

import common


def _time(fn, reps: int = 3) -> float:
    """Best-of-``reps`` seconds of ``fn()`` after one warm-up call."""
    fn()
    best = float("inf")
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--hidden", default="1024,1024")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rows", type=int, default=2000, help="rows per timed online run")
    ap.add_argument("--record", action="store_true")
    a = ap.parse_args()
    from mpidl.threads import configure_threads
    configure_threads(a.threads)        # before numpy / numba: BLAS at one thread per thread
    import numpy as np
    from numba import set_num_threads

    from mpidl.comm import SerialComm
    from mpidl.kernels.bundles import Net, Objective, Rows
    from mpidl.kernels.minibatch import train_minibatch
    from mpidl.kernels.online import train_chunk, train_hogwild
    from mpidl.kernels.scoring import predict_blocks, predict_rows
    from mpidl.params import validate
    from mpidl.train.loop import Trainer

    train_h5, test_h5 = common.mnist_h5()
    hidden = [int(h) for h in a.hidden.split(",")]
    params = validate(dict(training_frame=train_h5, response_column="C785", hidden=hidden,
                           seed=1, score_training_samples=100), "profile")
    t = Trainer(params, SerialComm(), a.threads, str(common.WORKDIR / "profile.h5"), "profile",
                log=lambda *x, **k: None)
    m, shard = t.model, t.shard
    net = Net(*m.net_args())
    units, mult = net.units, net.mult
    objective = Objective(m.loss_code(), m.optimizer_code(), m.hyper(m.huber_delta, m.processed))
    rows = Rows(shard.nums, shard.cats, shard.y)
    n = min(a.rows, shard.n)
    order = np.arange(n, dtype=np.int64)
    buf = m.buf.copy()
    seeds = np.arange(a.threads, dtype=np.int64)
    kargs = lambda b: (net, objective, b, np.zeros(1, b.dtype), rows, order)  # noqa
    rows_in = (shard.nums[:n], shard.cats[:n])
    set_num_threads(1)
    fwd = _time(lambda: predict_rows(net, buf, 0.0, m.dinfo.num_start, *rows_in, 1)) / n
    train1 = _time(lambda: train_chunk(*kargs(buf), 0, n, 1, 1)) / n
    set_num_threads(a.threads)
    hog = _time(lambda: train_hogwild(*kargs(buf), a.threads, seeds)) / n
    mb_rows = min(shard.n, 16 * 128 * a.threads)
    order_mb = np.arange(mb_rows, dtype=np.int64)
    mb_args = list(kargs(buf))
    mb_args[-1] = order_mb
    mb = _time(lambda: train_minibatch(*mb_args, 128, a.threads, seeds)) / mb_rows
    n_score = min(10000, shard.n)
    score = _time(lambda: predict_blocks(net, buf, 0.0, m.dinfo.num_start, shard.nums[:n_score],
                                         shard.cats[:n_score], a.threads), reps=1) / n_score

    # non-zero source activations per row (input and hidden layers) from the test-time pass
    acts = _activations(m, shard.nums[:500], shard.cats[:500])
    nnz = [float(np.mean(x != 0, axis=1).mean() * x.shape[1]) for x in acts]
    n_out = [int(mult[l] * units[l + 1]) for l in range(len(units) - 1)]
    update_bytes = sum(nnz[l] * n_out[l] * 4 * 3 * 2 for l in range(len(n_out)))
    forward_bytes = sum(nnz[l] * n_out[l] * 4 for l in range(len(n_out)))
    weights = sum(int(units[l]) * n_out[l] for l in range(len(n_out)))
    mb_flops = 6.0 * weights - 2.0 * int(units[0]) * n_out[0]  # no input-layer error

    two = common.run_mpidl(dict(training_frame=train_h5, response_column="C785", hidden=hidden,
                                epochs=0.05, seed=1, replicate_training_data=False,
                                score_training_samples=100, score_duty_cycle=0.0),
                           1, ranks=2, tag="profile_2ranks")
    avg = two["allreduce_seconds"] / max(1, two["train_samples_per_iteration"])

    us = lambda s: f"{1e6 * s:.1f}"  # noqa: E731
    rows = [
        ["forward (row kernel, 1 thread)", us(fwd), f"{forward_bytes / fwd / 1e9:.1f} GB/s of weights read"],
        ["back+update (fused, 1 thread)", us(train1 - fwd),
         f"{update_bytes / (train1 - fwd) / 1e9:.1f} GB/s of weights + ADADELTA state"],
        ["train, online (1 thread)", us(train1), f"{1 / train1:.0f} rows/s"],
        [f"train, online Hogwild ({a.threads} threads)", us(hog),
         f"{1 / hog:.0f} rows/s; {(forward_bytes + update_bytes) / hog / 1e9:.1f} GB/s"],
        [f"train, mini-batch 128 ({a.threads} threads)", us(mb),
         f"{1 / mb:.0f} rows/s; {mb_flops / mb / 1e9:.0f} GFLOP/s"],
        ["averaging (2 ranks, allreduce / rows per iteration)", us(avg),
         f"allreduce {1e3 * two['allreduce_seconds']:.1f} ms every "
         f"{two['train_samples_per_iteration']} rows"],
        [f"scoring (dense blocks, {a.threads} threads), per scored row", us(score),
         f"{1 / score:.0f} rows/s"],
    ]
    body = (f"MNIST, hidden [{a.hidden}], Rectifier, ADADELTA; non-zero source activations per "
            f"row by layer: {', '.join(f'{x:.0f}' for x in nnz)} of "
            f"{', '.join(str(int(u)) for u in units[:-1])}.  Machine limits: ~35 GB/s memory, "
            "~190 GFLOP/s sgemm on 2 cores.\n\n"
            + common.table(["part", "us per row", "rate"], rows))
    print(body)
    if a.record:
        common.record("profile", f"Where time goes per row, [{a.hidden}]", body)


def _activations(model, nums, cats):
    """Per weight layer, the source activations (input, hidden...) of ``nums``/``cats`` rows."""
    import numpy as np
    from mpidl.kernels.minibatch import layer_views
    units, mult, woff, boff, act, out_kind, ratios = model.net_args()
    weights, biases = layer_views(model.buf, [int(u) for u in units], mult, woff, boff)
    x = np.zeros((nums.shape[0], int(units[0])), np.float32)
    for i in range(cats.shape[1]):
        ok = cats[:, i] >= 0
        x[np.nonzero(ok)[0], cats[ok, i]] = 1.0
    x[:, model.dinfo.num_start:model.dinfo.num_start + nums.shape[1]] = nums
    out = [x]
    for w, b in zip(weights[:-1], biases[:-1]):
        z = out[-1] @ w + b
        if mult[0] == 2:
            z = np.maximum(z[:, 0::2], z[:, 1::2])
        out.append(np.maximum(z, 0) if act == 1 else np.tanh(z))
    return out


if __name__ == "__main__":
    main()
