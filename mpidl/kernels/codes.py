"""Integer codes shared by the numba kernels and the Python side (kernels take plain ints)."""

# hidden activations
ACT_TANH, ACT_RELU, ACT_MAXOUT = 0, 1, 2
# output layer
OUT_SOFTMAX, OUT_LINEAR = 0, 1
# autoencoder: full_n outputs with the hidden activation, the clean input as the target
OUT_AUTOENCODER = 2
# losses (softmax: CROSSENTROPY, QUADRATIC; linear: the rest)
LOSS_CROSSENTROPY, LOSS_QUADRATIC, LOSS_ABSOLUTE, LOSS_HUBER, LOSS_QUANTILE = 0, 1, 2, 3, 4
LOSS_POISSON, LOSS_GAMMA, LOSS_TWEEDIE = 5, 6, 7
# optimizers (ADADELTA and Adam keep two slots per parameter, momentum one, plain none)
OPT_ADADELTA, OPT_MOMENTUM, OPT_PLAIN, OPT_ADAM = 0, 1, 2, 3

# positions in the float64 hyper-parameter vector ``hp`` passed to the training kernels
HP_RHO, HP_EPS, HP_RATE, HP_ANNEAL, HP_DECAY = 0, 1, 2, 3, 4
HP_MOM_START, HP_MOM_RAMP, HP_MOM_STABLE, HP_NESTEROV = 5, 6, 7, 8
HP_L1, HP_L2, HP_MAX_W2, HP_INPUT_DROPOUT, HP_EA_LAMBDA = 9, 10, 11, 12, 13
HP_HUBER_DELTA, HP_QUANTILE_ALPHA, HP_TWEEDIE_POWER = 14, 15, 16
HP_PROCESSED, HP_FAST_MODE, HP_NUM_START = 17, 18, 19
HP_BETA1, HP_BETA2 = 20, 21
HP_SPARSITY_BETA, HP_AVERAGE_ACTIVATION = 22, 23
HP_SAME_MASKS = 24   # 1: every hidden layer restarts the row's dropout stream (H2O-3)
HP_SIZE = 25

# positions in the typed-scalar vector ``f`` (same dtype as the model buffer)
F_RHO, F_ONE_RHO, F_EPS, F_L1, F_L2, F_LAM, F_ZERO, F_ONE = 0, 1, 2, 3, 4, 5, 6, 7
F_NESTEROV, F_FAST, F_MAXW2 = 8, 9, 10
F_BETA1, F_ONE_BETA1, F_BETA2, F_ONE_BETA2 = 11, 12, 13, 14
F_SIZE = 15
