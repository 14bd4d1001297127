"""Network layout: layer sizes, the flat parameter buffer, and weight initialization.

The whole trainable state of a model lives in ONE contiguous buffer ``buf`` (float32 in
training, float64 for gradient checks) so that ranks combine models with a single
``Allreduce``::

    buf = [ params (P) | optimizer slot 1 (P) | optimizer slot 2 (P) ]

``params`` holds, for each weight layer ``l = 0..L`` (input->hidden1, ..., hiddenL->output),
the weight matrix ``W_l`` followed by its biases ``b_l``.

``W_l`` is stored **in-major** (transposed with respect to H2O): shape
``(units[l], mult[l] * units[l+1])``, row ``j`` = all outgoing weights of source unit ``j``.
This makes the forward pass an axpy over the *non-zero* source activations only, and the
update a contiguous SIMD loop over destination units (see ``kernels/online.py``).
Maxout hidden layers have ``mult = 2``: destination column ``2*k + c`` is channel ``c`` of
unit ``k``.  ``b_l`` has ``mult[l] * units[l+1]`` entries.

Optimizer slots: ADADELTA keeps ``E[g^2]`` (slot 1) and ``E[dx^2]`` (slot 2), Adam the mean
gradient (slot 1) and mean squared gradient (slot 2); manual rate
with momentum keeps the momentum/velocity (slot 1); plain manual rate keeps none.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..kernels.codes import (ACT_MAXOUT, ACT_RELU, ACT_TANH, OPT_ADADELTA, OPT_ADAM, OPT_MOMENTUM,
                             OPT_PLAIN)

_ACTIVATIONS = {
    "Tanh": ACT_TANH, "TanhWithDropout": ACT_TANH,
    "Rectifier": ACT_RELU, "RectifierWithDropout": ACT_RELU,
    "Maxout": ACT_MAXOUT, "MaxoutWithDropout": ACT_MAXOUT,
}

# H2O's layer type names for the "status of neuron layers" table
_TYPE_NAMES = {
    ("Tanh", False): "Tanh", ("Tanh", True): "TanhDropout",
    ("Rectifier", False): "Rectifier", ("Rectifier", True): "RectifierDropout",
    ("Maxout", False): "Maxout", ("Maxout", True): "MaxoutDropout",
}


def activation_code(name: str) -> int:
    """Kernel activation code for an H2O activation name (``Tanh``, ``RectifierWithDropout``...)."""
    return _ACTIVATIONS[name]


def optimizer_code(params) -> int:
    """The update rule ``params`` ask for (a ``kernels.codes`` OPT_* value)."""
    if params.adaptive_rate:
        return OPT_ADAM if params.adaptive_rate_method == "Adam" else OPT_ADADELTA
    return OPT_MOMENTUM if (params.momentum_start != 0 or params.momentum_stable != 0) else OPT_PLAIN


# Per-parameter optimizer slots of each rule.
OPTIMIZER_SLOTS = {OPT_ADADELTA: 2, OPT_ADAM: 2, OPT_MOMENTUM: 1, OPT_PLAIN: 0}


@dataclass(frozen=True)
class Layout:
    """Layer sizes and offsets into the flat buffer.

    units: ``[n_input, hidden..., n_output]``; activation: H2O hidden activation name;
    classification: softmax output (else linear); slots: optimizer slots (0, 1 or 2);
    autoencoder: the output layer reconstructs the input with the hidden activation.
    """

    units: tuple[int, ...]
    activation: str
    classification: bool
    slots: int
    autoencoder: bool = False

    @property
    def n_layers(self) -> int:
        """Number of weight layers (hidden layers + 1)."""
        return len(self.units) - 1

    @property
    def mult(self) -> np.ndarray:
        """int64[n_layers]: channels per destination unit (2 for Maxout hidden layers)."""
        m = np.ones(self.n_layers, dtype=np.int64)
        if activation_code(self.activation) == ACT_MAXOUT:
            m[:-1] = 2
        return m

    @property
    def n_params(self) -> int:
        """Weights + biases, counted as H2O does (section 13.3 of the spec)."""
        u, m = self.units, self.mult
        return int(sum(m[i] * u[i + 1] * u[i] + m[i] * u[i + 1] for i in range(self.n_layers)))

    def offsets(self) -> tuple[np.ndarray, np.ndarray]:
        """(woff, boff): int64[n_layers] start of ``W_l`` and ``b_l`` inside ``params``."""
        woff = np.zeros(self.n_layers, dtype=np.int64)
        boff = np.zeros(self.n_layers, dtype=np.int64)
        pos = 0
        u, m = self.units, self.mult
        for i in range(self.n_layers):
            woff[i] = pos
            pos += u[i] * m[i] * u[i + 1]
            boff[i] = pos
            pos += m[i] * u[i + 1]
        return woff, boff

    def buffer_size(self) -> int:
        """Length of the flat buffer: parameters plus optimizer slots."""
        return self.n_params * (1 + self.slots)

    def weights(self, buf: np.ndarray, layer: int) -> np.ndarray:
        """View of ``W_layer`` in H2O's orientation: ``[mult*units[l+1], units[l]]`` (a transpose view)."""
        woff, _ = self.offsets()
        n_in, n_out = self.units[layer], int(self.mult[layer]) * self.units[layer + 1]
        return buf[woff[layer]:woff[layer] + n_in * n_out].reshape(n_in, n_out).T

    def biases(self, buf: np.ndarray, layer: int) -> np.ndarray:
        """View of ``b_layer``: ``[mult*units[l+1]]``."""
        _, boff = self.offsets()
        n_out = int(self.mult[layer]) * self.units[layer + 1]
        return buf[boff[layer]:boff[layer] + n_out]

    def slot(self, buf: np.ndarray, k: int) -> np.ndarray:
        """View of optimizer slot ``k`` (1-based) of ``buf``: same layout as the parameters."""
        p = self.n_params
        return buf[k * p:(k + 1) * p]

    def layer_type(self, layer: int, dropout: bool) -> str:
        """H2O's class name of weight layer ``layer``'s destination (Rectifier, Softmax, ...)."""
        base = self.activation.replace("WithDropout", "")
        if layer == self.n_layers - 1:
            # the autoencoder's output: the non-dropout variant of the hidden activation
            return base if self.autoencoder else ("Softmax" if self.classification else "Linear")
        return _TYPE_NAMES[(base, dropout)]


def init_buffer(layout: Layout, distribution: str, scale: float, seed: int,
                dtype=np.float32) -> np.ndarray:
    """A fresh buffer with H2O's initialization (spec section 2); optimizer slots zero.

    UniformAdaptive: U(-r, r), r = sqrt(6/(fan_in + fan_out)) (unit counts without the
    Maxout x2), times 4 for the output layer of a classifier.  Uniform: U(-scale, scale).
    Normal: N(0, 1) * scale.  Hidden biases: 0.5 for the first and 1.0 for later layers
    under Rectifier / Maxout, 0 under Tanh; output biases 0.
    """
    buf = np.zeros(layout.buffer_size(), dtype=dtype)
    u = layout.units
    act = activation_code(layout.activation)
    for layer in range(layout.n_layers):
        rng = np.random.default_rng([seed & 0xFFFFFFFFFFFFFFFF, 0xBAD5EED + layer + 1])
        w = layout.weights(buf, layer)
        if distribution == "UniformAdaptive":
            r = np.sqrt(6.0 / (u[layer] + u[layer + 1]))
            if layer == layout.n_layers - 1 and layout.classification:
                r *= 4.0
            vals = rng.uniform(-r, r, size=w.shape)
        elif distribution == "Uniform":
            vals = rng.uniform(-scale, scale, size=w.shape)
        elif distribution == "Normal":
            vals = rng.standard_normal(size=w.shape) * scale
        else:
            raise ValueError(f"unknown initial_weight_distribution {distribution!r}")
        w[...] = vals
        if layer < layout.n_layers - 1 and act in (ACT_RELU, ACT_MAXOUT):
            layout.biases(buf, layer)[:] = 0.5 if layer == 0 else 1.0
    return buf
