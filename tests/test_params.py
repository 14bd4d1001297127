"""mpidl.params: H2O defaults, job files, validation messages, sanitize, restart rules."""

import json
import math

import pytest

from mpidl import params as P
from mpidl.errors import UserError
from mpidl.params import Params, check_restart, load_job, sanitize, validate, validate_for_data

BASE = {"training_frame": "train.h5", "response_column": "y"}


def job(tmp_path, text, name="job.toml"):
    f = tmp_path / name
    f.write_text(text)
    return str(f)


def ok(**kw):
    return validate({**BASE, **kw}, "job.toml")


def fails(match, **kw):
    with pytest.raises(UserError, match=match) as e:
        ok(**kw)
    assert "\n" not in str(e.value)
    return str(e.value)


# --- defaults ------------------------------------------------------------------------------

def test_defaults_equal_h2o():
    p = ok()
    assert p.activation == "Rectifier"
    assert p.hidden == [200, 200]
    assert p.epochs == 10
    assert p.train_samples_per_iteration == -2
    assert p.target_ratio_comm_to_comp == 0.05
    assert p.seed == -1
    assert p.adaptive_rate is True
    assert (p.rho, p.epsilon) == (0.99, 1e-8)
    assert p.adaptive_rate_method == "ADADELTA"  # mpidl extension; H2O has ADADELTA only
    assert (p.rate, p.rate_annealing, p.rate_decay) == (0.005, 1e-6, 1.0)
    assert (p.momentum_start, p.momentum_ramp, p.momentum_stable) == (0, 1e6, 0)
    assert p.nesterov_accelerated_gradient is True
    assert p.hidden_dropout_ratios is None and p.input_dropout_ratio == 0
    assert p.max_w2 == 3.4028234663852886e38  # Java Float.MAX_VALUE, exactly
    assert p.initial_weight_distribution == "UniformAdaptive" and p.initial_weight_scale == 1
    assert (p.loss, p.distribution) == ("Automatic", "AUTO")
    assert (p.score_interval, p.score_training_samples, p.score_validation_samples) == (5, 10000, 0)
    assert p.score_duty_cycle == 0.1 and p.score_each_iteration is False
    assert (p.classification_stop, p.regression_stop) == (0, 1e-6)
    assert (p.stopping_rounds, p.stopping_metric, p.stopping_tolerance) == (5, "AUTO", 0)
    assert p.max_runtime_secs == 0 and p.overwrite_with_best_model is True
    assert p.replicate_training_data is True and p.single_node_mode is False
    assert p.shuffle_training_data is False and p.reproducible is False
    assert p.missing_values_handling == "MeanImputation"
    assert (p.elastic_averaging, p.elastic_averaging_moving_rate, p.elastic_averaging_regularization) == \
        (False, 0.9, 1e-3)
    assert p.mini_batch_size == 1 and p.ignore_const_cols is True
    assert (p.tweedie_power, p.quantile_alpha, p.huber_alpha) == (1.5, 0.5, 0.9)
    assert p.ignored_columns == [] and p.validation_frame is None and p.checkpoint is None
    assert p.max_categorical_features == 2147483647


def test_table_is_consistent():
    names = [q.name for q in P.PARAMS]
    assert len(names) == len(set(names))
    for q in P.PARAMS:
        assert q.kind in P.KINDS and q.doc
        if q.kind == "enum":
            assert q.default in q.check
    assert not P.PARAM_BY_NAME["activation"].modifiable_on_checkpoint
    assert P.PARAM_BY_NAME["epochs"].modifiable_on_checkpoint
    assert "threads" not in P.PARAM_BY_NAME


def test_params_immutable_and_mapping():
    p = ok()
    with pytest.raises(AttributeError):
        p.epochs = 3
    h = p.hidden
    h.append(5)
    assert p.hidden == [200, 200]
    assert p["epochs"] == 10 and len(p) == len(P.PARAMS)
    q = p.replace(epochs=3)
    assert q.epochs == 3.0 and p.epochs == 10
    with pytest.raises(UserError, match="'epoch'.*'epochs'"):
        p.replace(epoch=3)


# --- job files -----------------------------------------------------------------------------

def test_load_job_and_overrides(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "train.csv").write_text("a,y\n")
    path = job(tmp_path, 'training_frame = "data/train.csv"\nresponse_column = "y"\nhidden = [10]\n'
                         'epochs = 1\nactivation = "RectifierWithDropout"\n')
    p = load_job(path)
    assert p.hidden == [10] and p.epochs == 1.0 and isinstance(p.epochs, float)
    assert p.training_frame == str(tmp_path / "data" / "train.csv")  # found next to the job file
    p = load_job(path, ["hidden=[64,64]", "activation=Tanh", "epochs=2.5", "seed=42", "model_id=2024-01-01",
                        "ignored_columns=a,b"])
    assert p.hidden == [64, 64] and p.activation == "Tanh" and p.epochs == 2.5 and p.seed == 42
    assert p.model_id == "2024-01-01" and p.ignored_columns == ["a", "b"]


def test_override_errors_name_set(tmp_path):
    path = job(tmp_path, 'training_frame = "t.h5"\nresponse_column = "y"\n')
    with pytest.raises(UserError, match=r"--set: parameter 'epochs': expected a number >= 0, got 'ten'"):
        load_job(path, ["epochs=ten"])
    with pytest.raises(UserError, match="expected key=value"):
        load_job(path, ["epochs"])
    with pytest.raises(UserError, match="unknown parameter 'epoch'; did you mean 'epochs'"):
        load_job(path, ["epoch=3"])
    with pytest.raises(UserError, match="did you mean 'response_column'"):
        load_job(path, ["y=C1"])


def test_bad_toml_names_file_and_line(tmp_path):
    path = job(tmp_path, 'training_frame = "t.h5"\nepochs = = 3\n')
    with pytest.raises(UserError, match=r"job\.toml: line 2: invalid TOML"):
        load_job(path)
    with pytest.raises(UserError, match="not found"):
        load_job(str(tmp_path / "missing.toml"))


def test_file_errors_name_file_and_parameter(tmp_path):
    path = job(tmp_path, 'training_frame = "t.h5"\nresponse_column = "y"\nepochs = "ten"\n')
    with pytest.raises(UserError) as e:
        load_job(path)
    assert str(e.value) == f"{path}: parameter 'epochs': expected a number >= 0, got 'ten'"


# --- validation errors ---------------------------------------------------------------------

def test_unknown_parameter_suggests():
    fails(r"unknown parameter 'hiden'; did you mean 'hidden'\?", hiden=[1])


def test_wrong_types():
    fails(r"parameter 'hidden': expected a list of integers each > 0, got 200; write hidden = \[200\]", hidden=200)
    fails(r"parameter 'adaptive_rate': expected true or false", adaptive_rate=1)
    fails(r"parameter 'adaptive_rate'.*without quotes", adaptive_rate="true")
    fails(r"parameter 'epochs'.*write 5 without quotes", epochs="5")
    fails(r"parameter 'seed': expected an integer", seed=1.5)
    assert ok(seed=7.0).seed == 7 and ok(l1=1).l1 == 1.0


def test_enum_wrong_case_suggests():
    msg = fails(r"parameter 'activation'.*did you mean 'Rectifier'\?", activation="rectifier")
    assert "Tanh" in msg
    fails(r"parameter 'distribution'.*did you mean 'bernoulli'", distribution="Bernoulli")
    fails(r"parameter 'loss'", loss="ModifiedHuber")


@pytest.mark.parametrize("name,value", [
    ("epochs", -1), ("input_dropout_ratio", 1.0), ("score_duty_cycle", 1.5), ("l1", -0.1), ("l2", -1),
    ("max_w2", 0), ("rho", 1.0), ("epsilon", 0), ("rate", 0), ("elastic_averaging_moving_rate", 2),
    ("elastic_averaging_regularization", -1), ("train_samples_per_iteration", -3), ("mini_batch_size", 0),
    ("target_ratio_comm_to_comp", 0), ("stopping_rounds", -1), ("stopping_tolerance", -1e-3),
    ("momentum_start", 1.0), ("momentum_stable", -0.1), ("hidden", [10, 0]), ("epochs", math.nan),
])
def test_out_of_range(name, value):
    fails(f"parameter '{name}': expected", **{name: value})


def test_hidden_dropout_rules():
    fails(r"parameter 'hidden_dropout_ratios': needs one ratio per hidden layer",
          activation="TanhWithDropout", hidden=[10, 10], hidden_dropout_ratios=[0.5])
    fails(r"parameter 'hidden_dropout_ratios': needs a dropout activation",
          activation="Tanh", hidden=[10], hidden_dropout_ratios=[0.5])
    fails(r"parameter 'hidden_dropout_ratios': expected a list of numbers each in \[0, 1\)",
          activation="TanhWithDropout", hidden=[10], hidden_dropout_ratios=[1.0])
    assert ok(activation="TanhWithDropout", hidden=[10], hidden_dropout_ratios=[0.2]).hidden_dropout_ratios == [0.2]
    assert ok(hidden=[]).hidden == []


def test_unsupported_and_required():
    assert ok(sparse=True).sparse is True     # implemented (tests/test_sparse.py)
    assert ok(categorical_encoding="Eigen").categorical_encoding == "Eigen"   # tests/test_eigen.py
    fails(r"parameter 'score_validation_sampling': value 'Stratified' is not supported",
          score_validation_sampling="Stratified")
    fails(r"parameter 'col_major'", col_major=True)
    with pytest.raises(UserError, match="parameter 'training_frame' is required"):
        validate({"response_column": "y"}, "job.toml")
    with pytest.raises(UserError, match="parameter 'response_column' is required"):
        validate({"training_frame": "t.h5"}, "job.toml")


def test_validate_for_data():
    with pytest.raises(UserError, match="parameter 'loss': CrossEntropy needs a categorical response"):
        validate_for_data(ok(loss="CrossEntropy"), False, 1, "job.toml")
    with pytest.raises(UserError, match="parameter 'distribution': bernoulli is not allowed for regression"):
        validate_for_data(ok(distribution="bernoulli"), False, 1, "job.toml")
    with pytest.raises(UserError, match="parameter 'distribution': gaussian is not allowed for classification"):
        validate_for_data(ok(distribution="gaussian"), True, 3, "job.toml")
    with pytest.raises(UserError, match="parameter 'loss': Absolute is not allowed for classification"):
        validate_for_data(ok(loss="Absolute"), True, 2, "job.toml")
    with pytest.raises(UserError, match="parameter 'loss': Quadratic is not allowed with distribution poisson"):
        validate_for_data(ok(distribution="poisson", loss="Quadratic"), False, 1, "job.toml")
    with pytest.raises(UserError, match="bernoulli needs a 2-class response"):
        validate_for_data(ok(distribution="bernoulli"), True, 3, "job.toml")
    validate_for_data(ok(), True, 10, "job.toml")
    validate_for_data(ok(distribution="laplace", loss="Absolute"), False, 1, "job.toml")


# --- sanitize ------------------------------------------------------------------------------

def test_sanitize_dropout_and_adaptive():
    s, notes = sanitize(ok(activation="RectifierWithDropout", hidden=[5, 6, 7]), True, 2, 4)
    assert s.hidden_dropout_ratios == [0.5, 0.5, 0.5]
    assert (s.rate, s.rate_decay, s.rate_annealing) == (0, 0, 0)
    assert (s.momentum_start, s.momentum_ramp, s.momentum_stable) == (0, 0, 0)
    assert (s.rho, s.epsilon) == (0.99, 1e-8)
    assert s.replicate_training_data is True  # several ranks
    assert s.mini_batch_size == 1 and s.categorical_encoding == "OneHotInternal"
    assert any(n.startswith("hidden_dropout_ratios") for n in notes) and all("\n" not in n for n in notes)
    s2, notes2 = sanitize(s, True, 2, 4)
    assert s2 == s and notes2 == []  # idempotent

    s, _ = sanitize(ok(adaptive_rate=False, rate=0.01, mini_batch_size=8), False, 1, 1)
    assert (s.rho, s.epsilon, s.rate, s.mini_batch_size) == (0, 0, 0.01, 8)
    assert s.replicate_training_data is False
    assert (s.adam_beta1, s.adam_beta2) == (0, 0)


def test_sanitize_adam_keeps_its_rate_and_betas():
    """adaptive_rate_method = Adam (extension): rate, annealing, decay, epsilon and the betas
    are used; rho and momentum are not."""
    s, notes = sanitize(ok(adaptive_rate_method="Adam", rate=1e-3, momentum_stable=0.5), True, 10, 1)
    assert (s.rate, s.rate_annealing, s.rate_decay, s.epsilon) == (1e-3, 1e-6, 1.0, 1e-8)
    assert (s.adam_beta1, s.adam_beta2) == (0.9, 0.999)
    assert (s.rho, s.momentum_start, s.momentum_stable) == (0, 0, 0)
    assert any("unused with Adam" in n for n in notes)
    assert sanitize(s, True, 10, 1) == (s, [])
    s, _ = sanitize(ok(adaptive_rate=False, adaptive_rate_method="Adam", rate=0.01), True, 10, 1)
    assert (s.adam_beta1, s.rho, s.rate) == (0, 0, 0.01)  # manual rate: the method is moot


@pytest.mark.parametrize("is_cls,ncls,loss,dist,want_dist,want_loss", [
    (True, 2, "Automatic", "AUTO", "bernoulli", "CrossEntropy"),
    (True, 10, "Automatic", "AUTO", "multinomial", "CrossEntropy"),
    (True, 10, "Quadratic", "AUTO", "multinomial", "Quadratic"),
    (False, 1, "Automatic", "AUTO", "gaussian", "Quadratic"),
    (False, 1, "Absolute", "AUTO", "laplace", "Absolute"),
    (False, 1, "Huber", "AUTO", "huber", "Huber"),
    (False, 1, "Quantile", "AUTO", "quantile", "Quantile"),
    (False, 1, "Automatic", "laplace", "laplace", "Absolute"),
    (False, 1, "Automatic", "poisson", "poisson", "Automatic"),
])
def test_sanitize_auto_distribution_and_loss(is_cls, ncls, loss, dist, want_dist, want_loss):
    s, _ = sanitize(ok(loss=loss, distribution=dist), is_cls, ncls, 1)
    assert (s.distribution, s.loss) == (want_dist, want_loss)


def test_sanitize_reproducible_and_max_w2():
    s, notes = sanitize(ok(reproducible=True), True, 2, 4)
    assert s.score_each_iteration is True and s.replicate_training_data is False
    assert s.train_samples_per_iteration == -1
    assert any("reproducible" in n for n in notes)
    s, _ = sanitize(ok(reproducible=True, train_samples_per_iteration=500), True, 2, 4)
    assert s.train_samples_per_iteration == 500
    assert sanitize(ok(), True, 2, 1)[0].max_w2 == P.FLOAT_MAX  # H2O quirk: stays off by default
    assert sanitize(ok(max_w2=math.inf), True, 2, 1)[0].max_w2 == 1000
    assert sanitize(ok(max_w2=math.inf, activation="Tanh"), True, 2, 1)[0].max_w2 == math.inf


# --- restart -------------------------------------------------------------------------------

def test_check_restart():
    old = ok(activation="Tanh", hidden=[20, 20])
    check_restart(old, old.replace(epochs=50, l1=1e-4, seed=7, rate=0.5), "m.h5")  # rate unused: adaptive
    check_restart(sanitize(old, True, 2, 1)[0], old.replace(epochs=50), "m.h5")  # sanitized old is fine
    with pytest.raises(UserError) as e:
        check_restart(old, old.replace(activation="Rectifier"), "m.h5")
    assert str(e.value) == ("checkpoint m.h5: parameter 'activation' differs (checkpoint: Tanh, job: Rectifier); "
                            "it cannot change on restart")
    with pytest.raises(UserError, match="parameter 'hidden' differs"):
        check_restart(old, old.replace(hidden=[20]), "m.h5")
    with pytest.raises(UserError, match="parameter 'rho' differs"):
        check_restart(old, old.replace(rho=0.9), "m.h5")
    with pytest.raises(UserError, match="validation"):
        check_restart(old, old.replace(validation_frame="v.h5"), "m.h5")
    with pytest.raises(UserError, match="parameter 'adaptive_rate_method' differs"):
        check_restart(old, old.replace(adaptive_rate_method="Adam"), "m.h5")
    adam = ok(adaptive_rate_method="Adam", rate=1e-3)
    check_restart(sanitize(adam, True, 2, 1)[0], adam.replace(epochs=50), "m.h5")
    with pytest.raises(UserError, match="parameter 'adam_beta2' differs"):
        check_restart(adam, adam.replace(adam_beta2=0.99), "m.h5")
    with pytest.raises(UserError, match="parameter 'rate' differs"):
        check_restart(adam, adam.replace(rate=1e-2), "m.h5")
    manual = ok(adaptive_rate=False)
    check_restart(manual, manual.replace(adaptive_rate_method="Adam", adam_beta1=0.5), "m.h5")
    merged = P.restart_params(old.replace(l1=0.5), old.replace(epochs=99, rho=0.5))
    assert merged.epochs == 99 and merged.rho == 0.99 and merged.l1 == 0


def test_to_dict_from_dict_round_trip():
    p = sanitize(ok(activation="MaxoutWithDropout", hidden=[3], max_w2=math.inf), True, 3, 2)[0]
    q = Params.from_dict(json.loads(json.dumps(p.to_dict())))
    assert q == p and q.hidden == [3]
    with pytest.raises(UserError, match="unknown parameter 'bogus'"):
        Params.from_dict({**p.to_dict(), "bogus": 1})
    with pytest.raises(UserError, match="parameter 'hidden'"):
        Params.from_dict({"hidden": "x"})


def test_describe_markdown():
    md = P.describe_markdown()
    for q in P.PARAMS:
        assert f"| `{q.name}` |" in md


def test_every_parameter_says_where_it_comes_from():
    """docs/parameters.md: H2O's, an mpidl extension, or H2O's and not supported yet."""
    md = P.describe_markdown()
    assert "| `adam_beta1` | mpidl extension |" in md
    assert "| `train_while_waiting` | mpidl extension |" in md
    assert "| `sparse` | H2O |" in md
    assert "| `nfolds` | H2O |" in md
    assert "| `hidden` | H2O |" in md
    rows = [x for x in md.splitlines() if x.startswith("| `")]
    assert len(rows) == len(P.PARAMS)
    assert all(x.split(" | ")[1] in ("H2O", "mpidl extension", "H2O, not supported yet")
               for x in rows)
