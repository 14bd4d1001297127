"""A model: parameters, column plan, layer layout, the flat buffer, counters and history.

Everything a checkpoint holds lives here (``checkpoint.py`` only serializes it).  The
kernel-facing arrays (units, offsets, codes, hyper-parameter vector) are derived here so the
training loop and the scorer call the kernels the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..data.datainfo import DataInfo
from ..kernels import codes as K
from .class_dist import correct_probabilities
from .network import OPTIMIZER_SLOTS, Layout, activation_code, init_buffer, optimizer_code

_LOSS_CODES = {
    "CrossEntropy": K.LOSS_CROSSENTROPY, "Quadratic": K.LOSS_QUADRATIC,
    "Absolute": K.LOSS_ABSOLUTE, "Huber": K.LOSS_HUBER, "Quantile": K.LOSS_QUANTILE,
}
_DENSE_SCORING_PARAMS = 20000   # from this many weights up, score with matrix products
_DEVIANCE_CODES = {"poisson": K.LOSS_POISSON, "gamma": K.LOSS_GAMMA, "tweedie": K.LOSS_TWEEDIE}


@dataclass
class Model:
    """A trained (or training) network.  ``params`` are the sanitized parameters."""

    params: object
    dinfo: DataInfo
    layout: Layout
    buf: np.ndarray                       # float32[layout.buffer_size()]
    model_id: str = "mpidl_model"
    processed: int = 0                    # training samples done, all ranks (H2O processed_global)
    iterations: int = 0
    training_rows: int = 0
    epoch_counter: float = 0.0
    train_seconds: float = 0.0            # wall time of training, scoring included
    scoring_seconds: float = 0.0
    tspi: int = 0                         # global samples per iteration in force
    comm_seconds: float = 0.0             # measured time of one model allreduce (0: one rank)
    huber_delta: float = 1.0              # in training (standardized) units
    history: list = field(default_factory=list)
    best_buf: np.ndarray | None = None
    best_loss: float = float("inf")
    best_at: dict = field(default_factory=dict)  # iteration, epochs, samples, loss of best_buf
    run_totals: dict = field(default_factory=dict)  # iterations, epochs, samples of the run
    local_bufs: np.ndarray | None = None  # float32[nranks, len(buf)]: elastic averaging's
                                          # per-rank local models (resumable checkpoints only)
    training_metrics: dict = field(default_factory=dict)
    validation_metrics: dict = field(default_factory=dict)
    stop_reason: str = ""
    nranks: int = 1
    avg_activations: np.ndarray | None = None   # float64[sum(hidden)]: the autoencoder's
                                                # sparsity running means (sparsity_beta > 0)
    memory: dict = field(default_factory=dict)   # per-rank peak RSS, data read, model (MB)
    # cross-validation (spec 10.1): the holdout predictions of all fold models scored together
    # (validation_metrics' keys); per metric {"mean", "sd", "folds": [one value per fold]};
    # the kept files {"models": [...], "holdout_predictions": ..., "fold_assignment": ...}
    cross_validation_metrics: dict = field(default_factory=dict)
    cross_validation_metrics_summary: dict = field(default_factory=dict)
    cross_validation_files: dict = field(default_factory=dict)
    variable_importances: list | None = None     # Gedeon, one per input slot (varimp.py)
    saw_missing_cats: list | None = None         # per categorical: a training row was missing
    # balance_classes: the relative (weighted) class distributions of the training rows
    # before and after resampling (H2O's priorClassDist, modelClassDist); None without it
    prior_class_dist: list | None = None
    model_class_dist: list | None = None

    @staticmethod
    def layout_for(params, dinfo: DataInfo) -> Layout:
        """The layers of a model of ``params`` on the column plan ``dinfo``."""
        n_out = dinfo.full_n if dinfo.autoencoder else (
            dinfo.nclasses if dinfo.classification else 1)
        return Layout(units=(dinfo.full_n, *params.hidden, n_out),
                      activation=params.activation, classification=dinfo.classification,
                      slots=OPTIMIZER_SLOTS[optimizer_code(params)],
                      autoencoder=dinfo.autoencoder)

    @classmethod
    def create(cls, params, dinfo: DataInfo, model_id: str) -> "Model":
        """A freshly initialized model for ``dinfo`` (H2O's init, spec section 2)."""
        layout = cls.layout_for(params, dinfo)
        buf = init_buffer(layout, params.initial_weight_distribution,
                          params.initial_weight_scale, params.seed)
        avg = np.zeros(sum(params.hidden)) if params.sparsity_beta > 0 else None
        return cls(params=params, dinfo=dinfo, layout=layout, buf=buf, model_id=model_id,
                   avg_activations=avg)

    @property
    def n_params(self) -> int:
        return self.layout.n_params

    # -------------------------------------------------------------- kernel arguments
    def net_args(self):
        """(units, mult, woff, boff, act, out_kind, ratios) as the kernels take them."""
        lay = self.layout
        woff, boff = lay.offsets()
        ratios = np.zeros(max(1, lay.n_layers - 1), dtype=np.float64)
        hdr = self.params.hidden_dropout_ratios or []
        ratios[:len(hdr)] = hdr
        out_kind = (K.OUT_AUTOENCODER if lay.autoencoder else
                    K.OUT_SOFTMAX if lay.classification else K.OUT_LINEAR)
        return (np.asarray(lay.units, dtype=np.int64), lay.mult, woff, boff,
                activation_code(lay.activation), out_kind, ratios)

    def loss_code(self) -> int:
        p = self.params
        if p.loss == "Automatic" and p.distribution in _DEVIANCE_CODES:
            return _DEVIANCE_CODES[p.distribution]
        return _LOSS_CODES[p.loss]

    def optimizer_code(self) -> int:
        return optimizer_code(self.params)

    def hyper(self, huber_delta: float, processed: int) -> np.ndarray:
        """float64[HP_SIZE] hyper-parameter vector for the training kernels: the parameters,
        plus what changes during training (``train/control.py`` hands these over):
        huber_delta in training (standardized) units, processed = rows trained so far."""
        p = self.params
        hp = np.zeros(K.HP_SIZE, dtype=np.float64)
        hp[K.HP_RHO], hp[K.HP_EPS] = p.rho, p.epsilon
        hp[K.HP_RATE], hp[K.HP_ANNEAL], hp[K.HP_DECAY] = p.rate, p.rate_annealing, p.rate_decay
        hp[K.HP_MOM_START], hp[K.HP_MOM_RAMP] = p.momentum_start, p.momentum_ramp
        hp[K.HP_MOM_STABLE] = p.momentum_stable
        hp[K.HP_NESTEROV] = float(p.nesterov_accelerated_gradient)
        hp[K.HP_L1], hp[K.HP_L2], hp[K.HP_MAX_W2] = p.l1, p.l2, p.max_w2
        hp[K.HP_INPUT_DROPOUT] = p.input_dropout_ratio
        hp[K.HP_EA_LAMBDA] = p.elastic_averaging_regularization if p.elastic_averaging else 0.0
        hp[K.HP_HUBER_DELTA] = huber_delta
        hp[K.HP_QUANTILE_ALPHA], hp[K.HP_TWEEDIE_POWER] = p.quantile_alpha, p.tweedie_power
        hp[K.HP_PROCESSED] = processed
        hp[K.HP_FAST_MODE] = float(p.fast_mode)
        hp[K.HP_NUM_START] = self.dinfo.num_start
        hp[K.HP_BETA1], hp[K.HP_BETA2] = p.adam_beta1, p.adam_beta2
        hp[K.HP_SPARSITY_BETA] = p.sparsity_beta
        hp[K.HP_AVERAGE_ACTIVATION] = p.average_activation
        hp[K.HP_SAME_MASKS] = float(p.hidden_dropout_masks == "SameSeed")
        return hp

    def sparsity_state(self) -> np.ndarray:
        """The kernels' ``avg_act``: the running means, updated in place (empty: no sparsity)."""
        return self.avg_activations if self.avg_activations is not None else np.zeros(0)

    # -------------------------------------------------------------- prediction
    def raw_output(self, nums, cats, threads: int, buf=None, off=None) -> np.ndarray:
        """Network outputs float64[n, n_out] (softmax probabilities, link-space output, or an
        autoencoder's reconstruction in the normalized input space); ``off``: float64[n]
        offsets in output units (``DataInfo.link_offsets``) added to a regression output, or
        None; a model trained on resampled classes gives probabilities corrected back to the
        training frame's class distribution (``class_dist.py``)."""
        from ..data.shard_numerics import kernel_numerics
        from ..kernels.bundles import Net
        from ..kernels.scoring import predict_blocks, predict_rows
        b = self.buf if buf is None else buf
        # wide layers: dense matrix products; small nets: the row kernel (less per-call cost)
        predict = predict_blocks if self.n_params >= _DENSE_SCORING_PARAMS else predict_rows
        out = predict(Net(*self.net_args()), b, float(self.params.input_dropout_ratio),
                      self.dinfo.num_start, kernel_numerics(nums), cats, max(1, int(threads)))
        if off is not None:
            out[:, 0] += off
        if self.model_class_dist is None:
            return out
        return correct_probabilities(out, self.prior_class_dist, self.model_class_dist)

    def to_response_scale(self, f: np.ndarray) -> np.ndarray:
        """Regression: link-space output -> prediction in original response units."""
        y = f / self.dinfo.resp_mul + self.dinfo.resp_sub
        if self.params.distribution in _DEVIANCE_CODES:
            y = np.minimum(np.exp(y), 1e19)
        return y

    def params_view(self, buf=None) -> np.ndarray:
        """The weights-and-biases part of ``buf`` (default: the model's)."""
        b = self.buf if buf is None else buf
        return b[:self.n_params]
