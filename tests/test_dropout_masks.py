"""hidden_dropout_masks: H2O-3 seeds every hidden layer's dropout mask of a row with the same
seed (``Neurons.RectifierDropout.fprop``: ``seed + params.seed + 0x3C71F1ED`` for each layer;
spec 3.5), so hidden layers of equal width drop the same units; SameSeed (the default)
reproduces that,
Independent draws each layer's mask afresh.  Checked on the kernels' masks."""

from pathlib import Path

import numpy as np
import pytest

from mpidl.comm import SerialComm
from mpidl.kernels import codes as C
from mpidl.kernels.minibatch import NO_STREAMS, add_bias_activate
from mpidl.kernels.forward import forward, layer_offsets
from mpidl.kernels.rng import fill_row_streams
from mpidl.model.network import Layout, activation_code, init_buffer
from mpidl.params import validate
from mpidl.train import loop

PROSTATE = str(Path(__file__).resolve().parents[1] / "data" / "prostate.csv")
WIDTHS = (64, 64, 32)    # two equal-width layers, then a narrower one


def _online_masks(same: bool, rows: int) -> list[np.ndarray]:
    """The keep masks of ``rows`` successive training rows: one uint8[sum(WIDTHS)] each."""
    lay = Layout(units=(3,) + WIDTHS + (2,), activation="RectifierWithDropout",
                 classification=True, slots=0)
    buf = init_buffer(lay, "UniformAdaptive", 1.0, 5)
    units, mult = np.array(lay.units, dtype=np.int64), lay.mult
    woff, boff = lay.offsets()
    aoff, zoff = layer_offsets(units, mult)
    z = np.zeros(zoff[lay.n_layers], dtype=np.float32)
    keep = np.ones(aoff[-1], dtype=np.uint8)
    nz = np.zeros(aoff[-1], dtype=np.int64)
    state = np.array([12345], dtype=np.uint64)
    out = []
    for _ in range(rows):
        a = np.zeros(aoff[-1], dtype=np.float32)
        a[:3] = [1.0, -0.5, 0.25]
        nz[:3] = [0, 1, 2]
        nnz = np.zeros(len(units), dtype=np.int64)
        nnz[0] = 3
        forward(buf, units, mult, woff, boff, activation_code(lay.activation), C.OUT_SOFTMAX,
                np.full(3, 0.5), a, z, keep, nz, nnz, aoff, zoff, True, True, state, same)
        out.append(keep[aoff[1]:aoff[4]].copy())
    return out


def _layers(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return mask[:64], mask[64:128], mask[128:]


def test_online_same_seed_drops_the_same_units_in_equal_width_layers():
    rows = _online_masks(True, 3)
    for mask in rows:
        first, second, third = _layers(mask)
        assert 16 < first.sum() < 48                  # a real 50 % mask
        np.testing.assert_array_equal(first, second)  # H2O: the same seed for both layers
        np.testing.assert_array_equal(third, first[:32])   # the same stream, restarted
    assert not np.array_equal(rows[0], rows[1])       # a new seed for every row
    assert not np.array_equal(rows[1], rows[2])


def test_online_independent_masks_differ_between_layers():
    for mask in _online_masks(False, 3):
        first, second, _ = _layers(mask)
        assert not np.array_equal(first, second)


def _batch_masks(streams: np.ndarray, width: int, state_seed: int = 99) -> np.ndarray:
    """The keep mask (uint8[4, width]) of one hidden layer of a 4-row mini-batch."""
    z = np.ones((4, width), np.float32)
    a = np.zeros((4, width), np.float32)
    keep = np.ones((4, width), np.uint8)
    state = np.array([state_seed], np.uint64)
    add_bias_activate(z, np.zeros(width, np.float32), a, keep, C.ACT_RELU, 0.5, True, state,
                      streams)
    assert np.all(a[keep == 0] == 0) and np.all(a[keep == 1] == 1)
    return keep


def test_minibatch_same_seed_masks_repeat_per_row_across_layers():
    streams = np.zeros(4, np.uint64)
    fill_row_streams(streams, np.array([7], np.uint64))
    first = _batch_masks(streams, 64, state_seed=1)
    second = _batch_masks(streams, 64, state_seed=2)   # the thread's own stream is not used
    narrow = _batch_masks(streams, 32)
    np.testing.assert_array_equal(first, second)
    np.testing.assert_array_equal(narrow, first[:, :32])
    assert len({first[i].tobytes() for i in range(4)}) == 4   # each row its own mask


def test_minibatch_independent_masks_differ_between_layers():
    state = np.array([3], np.uint64)
    z = np.ones((4, 64), np.float32)
    masks = []
    for _ in range(2):
        keep = np.ones((4, 64), np.uint8)
        add_bias_activate(z.copy(), np.zeros(64, np.float32), np.zeros((4, 64), np.float32),
                          keep, C.ACT_RELU, 0.5, True, state, NO_STREAMS)
        masks.append(keep)
    assert not np.array_equal(masks[0], masks[1])


@pytest.mark.parametrize("batch", [1, 8])
def test_the_parameter_reaches_the_training_kernels(tmp_path, batch):
    """The same seed, one thread: SameSeed and Independent train different models."""
    def trained(masks):
        job = dict(training_frame=PROSTATE, response_column="CAPSULE",
                   ignored_columns=["ID"], distribution="bernoulli", hidden=[6, 6],
                   activation="RectifierWithDropout", hidden_dropout_masks=masks,
                   mini_batch_size=batch, epochs=2, seed=3, reproducible=True)
        t = loop.Trainer(validate(job, "test"), SerialComm(), 1, str(tmp_path / f"{masks}.h5"),
                         "m", log=lambda *a, **k: None)
        t.run()
        return t.model.buf.copy()
    same, independent = trained("SameSeed"), trained("Independent")
    assert np.all(np.isfinite(same)) and not np.array_equal(same, independent)
