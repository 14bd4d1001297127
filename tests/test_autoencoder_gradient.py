"""The autoencoder's training step is the gradient H2O takes (spec 3.1, 11), checked by central
finite differences in float64 against a plain-numpy objective written here.

H2O feeds ``-2 negHalfGradient(t_j, y_j)`` to the output layer as dE/dz, without the output
activation's derivative (a quirk, docs/quirks.md).  So the objective whose gradient the step
follows is the reconstruction loss with the output activation taken with slope 1 at the
current point: ``sum_j L(act(z0_j) + (z_j - z0_j), t_j)`` (z0: the pre-activations before the
step), ``L`` = (y-t)^2, |y-t| or Huber; the target ``t`` is the clean input, also under input
dropout (a denoising autoencoder).  One plain-SGD step (rate r) of the online kernel must move
every weight and bias by -r times that gradient; the mini-batch kernel by -r times its mean
over the batch.

With sparsity (sparsity_beta > 0, spec 4.4-4.5) each hidden unit's running mean activation
becomes 0.999 avg + 0.001 a after the row's forward pass, and its bias moves by a further
-r beta (avg - average_activation) (once per batch for the mini-batch kernel).
"""

import numpy as np
import pytest

from mpidl.kernels import bundles, codes as C, minibatch, online
from mpidl.model.network import Layout, activation_code, init_buffer

RATE = 1e-3
HUBER_DELTA = 0.3
N_CAT_SLOTS = 3            # one categorical column: 2 levels + the NA slot
UNITS = (N_CAT_SLOTS + 2, 4, 3, N_CAT_SLOTS + 2)
LOSSES = {"Quadratic": C.LOSS_QUADRATIC, "Absolute": C.LOSS_ABSOLUTE, "Huber": C.LOSS_HUBER}


def _rows():
    """Three rows: (nums float32[3, 2], cats int32[3, 1], y unused, order)."""
    nums = np.array([[0.3, -0.2], [-0.4, 0.45], [0.1, 0.0]], np.float32)
    cats = np.array([[0], [2], [1]], np.int32)
    return nums, cats, np.zeros(3), np.arange(3, dtype=np.int64)


BETA, TARGET = 0.2, -0.3


def _setup(activation, loss, input_dropout=0.0, sparsity=False):
    lay = Layout(units=UNITS, activation=activation, classification=False, slots=0,
                 autoencoder=True)
    buf = init_buffer(lay, "Normal", 0.5, 11, dtype=np.float64)
    woff, boff = lay.offsets()
    net = bundles.Net(np.array(UNITS, np.int64), lay.mult, woff, boff,
                      activation_code(activation), C.OUT_AUTOENCODER,
                      np.zeros(len(UNITS) - 2))
    hp = np.zeros(C.HP_SIZE)
    hp[C.HP_RATE], hp[C.HP_DECAY], hp[C.HP_MOM_RAMP] = RATE, 1.0, 1e6
    hp[C.HP_MAX_W2], hp[C.HP_HUBER_DELTA] = np.inf, HUBER_DELTA
    hp[C.HP_INPUT_DROPOUT], hp[C.HP_NUM_START] = input_dropout, N_CAT_SLOTS
    hp[C.HP_SPARSITY_BETA], hp[C.HP_AVERAGE_ACTIVATION] = BETA, TARGET
    avg = np.linspace(-0.5, 0.5, sum(UNITS[1:-1])) if sparsity else np.zeros(0)
    return lay, buf, net, bundles.Objective(LOSSES[loss], C.OPT_PLAIN, hp, avg)


def _dense(nums, cats):
    x = np.zeros((nums.shape[0], UNITS[0]))
    x[np.arange(len(cats)), cats[:, 0]] = 1.0
    x[:, N_CAT_SLOTS:] = nums
    return x


def _act(z, activation):
    return np.tanh(z) if activation == "Tanh" else np.maximum(z, 0.0)


def _pre_output(lay, buf, x, activation, hidden=None):
    """The output layer's pre-activations for input ``x`` (H2O orientation, plain numpy);
    ``hidden`` (a list) receives the hidden layers' activations."""
    a = x
    for l in range(lay.n_layers):
        z = lay.weights(buf, l) @ a + lay.biases(buf, l)
        a = _act(z, activation) if l < lay.n_layers - 1 else z
        if hidden is not None and l < lay.n_layers - 1:
            hidden.append(a)
    return a


def _running_means(lay, buf, avg, x):
    """The sparsity running means after the forward pass of row ``x``."""
    hidden = []
    _pre_output(lay, buf, x, "Tanh", hidden)
    return 0.999 * avg + 0.001 * np.concatenate(hidden)


def _pulled(lay, grad, avg):
    """``grad`` plus the sparsity pull beta (avg - average_activation) on the hidden biases."""
    grad = grad.copy()
    _, boff = lay.offsets()
    at = 0
    for l, n in enumerate(UNITS[1:-1]):
        grad[boff[l]:boff[l] + n] += BETA * (avg[at:at + n] - TARGET)
        at += n
    return grad


def _loss(r, loss):
    if loss == "Quadratic":
        return np.sum(r * r)
    if loss == "Absolute":
        return np.sum(np.abs(r))
    d = HUBER_DELTA
    return np.sum(np.where(np.abs(r) <= d, r * r, 2 * d * np.abs(r) - d * d))


def _fd_gradient(lay, buf, x_in, target, activation, loss, h=1e-6):
    """Central differences of the linearized reconstruction objective over every parameter."""
    z0 = _pre_output(lay, buf, x_in, activation)
    y0 = _act(z0, activation)

    def objective(b):
        return _loss(y0 + (_pre_output(lay, b, x_in, activation) - z0) - target, loss)
    grad = np.zeros(lay.n_params)
    for i in range(lay.n_params):
        up, down = buf.copy(), buf.copy()
        up[i] += h
        down[i] -= h
        grad[i] = (objective(up) - objective(down)) / (2 * h)
    return grad


# Rectifier with Absolute is left out: a Rectifier output at 0 reconstructing a one-hot 0 sits
# on the kink of |r| (r = 0 exactly), where H2O's rule takes -1 and differences see 0.
@pytest.mark.parametrize("activation, loss", [("Tanh", "Quadratic"), ("Tanh", "Absolute"),
                                              ("Tanh", "Huber"), ("Rectifier", "Quadratic"),
                                              ("Rectifier", "Huber")])
def test_online_step_follows_the_reconstruction_gradient(activation, loss):
    lay, buf, net, obj = _setup(activation, loss)
    nums, cats, y, order = _rows()
    x = _dense(nums, cats)[0]
    expected = _fd_gradient(lay, buf, x, x, activation, loss)
    before = buf.copy()
    online.train_chunk(net, obj, buf, np.zeros(1), bundles.Rows(nums, cats, y), order, 0, 1,
                       7, 1)
    step = (before - buf)[:lay.n_params] / RATE
    np.testing.assert_allclose(step, expected, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("activation", ["Tanh", "Rectifier"])
def test_input_dropout_keeps_the_clean_input_as_the_target(activation):
    """A ratio so close to 1 that every input of the row is dropped (for this seed): the
    network sees zeros and is pulled towards the clean row (H2O's _origa)."""
    lay, buf, net, obj = _setup(activation, "Quadratic", input_dropout=1 - 1e-9)
    nums, cats, y, order = _rows()
    x = _dense(nums, cats)[0]
    expected = _fd_gradient(lay, buf, np.zeros_like(x), x, activation, "Quadratic")
    before = buf.copy()
    online.train_chunk(net, obj, buf, np.zeros(1), bundles.Rows(nums, cats, y), order, 0, 1,
                       7, 1)
    np.testing.assert_allclose((before - buf)[:lay.n_params] / RATE, expected, rtol=1e-5,
                               atol=1e-7)


@pytest.mark.parametrize("activation", ["Tanh", "Rectifier"])
def test_minibatch_step_follows_the_mean_gradient(activation):
    lay, buf, net, obj = _setup(activation, "Quadratic")
    nums, cats, y, order = _rows()
    xs = _dense(nums, cats)
    expected = np.mean([_fd_gradient(lay, buf, x, x, activation, "Quadratic") for x in xs],
                       axis=0)
    before = buf.copy()
    minibatch.train_minibatch(net, obj, buf, np.zeros(1), bundles.Rows(nums, cats, y), order,
                              3, 1, np.array([7]))
    np.testing.assert_allclose((before - buf)[:lay.n_params] / RATE, expected, rtol=1e-5,
                               atol=1e-7)


def test_online_sparsity_pulls_the_hidden_biases():
    lay, buf, net, obj = _setup("Tanh", "Quadratic", sparsity=True)
    nums, cats, y, order = _rows()
    x = _dense(nums, cats)[0]
    avg = _running_means(lay, buf, obj.avg_act.copy(), x)
    expected = _pulled(lay, _fd_gradient(lay, buf, x, x, "Tanh", "Quadratic"), avg)
    before = buf.copy()
    online.train_chunk(net, obj, buf, np.zeros(1), bundles.Rows(nums, cats, y), order, 0, 1,
                       7, 1)
    np.testing.assert_allclose(obj.avg_act, avg, rtol=1e-12)
    np.testing.assert_allclose((before - buf)[:lay.n_params] / RATE, expected, rtol=1e-5,
                               atol=1e-7)


def test_minibatch_sparsity_pulls_the_hidden_biases_once_per_batch():
    lay, buf, net, obj = _setup("Tanh", "Quadratic", sparsity=True)
    nums, cats, y, order = _rows()
    xs = _dense(nums, cats)
    avg = obj.avg_act.copy()
    for x in xs:
        avg = _running_means(lay, buf, avg, x)
    mean = np.mean([_fd_gradient(lay, buf, x, x, "Tanh", "Quadratic") for x in xs], axis=0)
    before = buf.copy()
    minibatch.train_minibatch(net, obj, buf, np.zeros(1), bundles.Rows(nums, cats, y), order,
                              3, 1, np.array([7]))
    np.testing.assert_allclose(obj.avg_act, avg, rtol=1e-12)
    np.testing.assert_allclose((before - buf)[:lay.n_params] / RATE, _pulled(lay, mean, avg),
                               rtol=1e-5, atol=1e-7)
