"""Optimizers: each update rule against the formula written here (Keras 3's definitions and the
spec's section 4), over several steps on small float64 arrays; clipping, weight decay,
learning-rate schedules, the `lr=` alias and the step counter."""
from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from mitbadak import keras, optimizers

STEPS = 5
EPS = 1e-7


def _problem(seed=0):
    """Two parameters and a fixed sequence of gradients for each step."""
    rng = np.random.default_rng(seed)
    params = [rng.normal(size=(3, 2)), rng.normal(size=(2,))]
    grads = [[rng.normal(size=p.shape) for p in params] for _ in range(STEPS)]
    return params, grads


def _run(opt, params, grads):
    ws = [p.copy() for p in params]
    for step_grads in grads:
        opt.apply(ws, [g.copy() for g in step_grads])
    return ws


# ------------------------------------------------------------------ reference rules (one param)
def ref_sgd(w, gs, lr=0.01, momentum=0.0, nesterov=False):
    w, v = w.copy(), np.zeros_like(w)
    for g in gs:
        if momentum == 0:
            w = w - lr * g
        else:
            v = momentum * v - lr * g
            w = w + momentum * v - lr * g if nesterov else w + v
    return w


def ref_adagrad(w, gs, lr=0.001, init=0.1, eps=EPS):
    w, a = w.copy(), np.full_like(w, init)
    for g in gs:
        a = a + g ** 2
        w = w - lr * g / np.sqrt(a + eps)
    return w


def ref_rmsprop(w, gs, lr=0.001, rho=0.9, momentum=0.0, eps=EPS, centered=False):
    w, v, m, gbar = w.copy(), np.zeros_like(w), np.zeros_like(w), np.zeros_like(w)
    for g in gs:
        v = rho * v + (1 - rho) * g ** 2
        if centered:
            gbar = rho * gbar + (1 - rho) * g
            inc = lr * g / np.sqrt(v - gbar ** 2 + eps)
        else:
            inc = lr * g / np.sqrt(v + eps)
        if momentum:
            m = momentum * m + inc
            w = w - m
        else:
            w = w - inc
    return w


def ref_adam(w, gs, lr=0.001, b1=0.9, b2=0.999, eps=EPS, amsgrad=False, wd=0.0):
    w, m, v, vmax = w.copy(), np.zeros_like(w), np.zeros_like(w), np.zeros_like(w)
    for t, g in enumerate(gs, start=1):
        w = w - lr * wd * w                       # decoupled decay, before the rule (AdamW)
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g ** 2
        alpha = lr * math.sqrt(1 - b2 ** t) / (1 - b1 ** t)
        if amsgrad:
            vmax = np.maximum(vmax, v)
            w = w - alpha * m / (np.sqrt(vmax) + eps)
        else:
            w = w - alpha * m / (np.sqrt(v) + eps)
    return w


def ref_adamax(w, gs, lr=0.001, b1=0.9, b2=0.999, eps=EPS):
    w, m, u = w.copy(), np.zeros_like(w), np.zeros_like(w)
    for t, g in enumerate(gs, start=1):
        m = m + (g - m) * (1 - b1)
        u = np.maximum(b2 * u, np.abs(g))
        w = w - lr * m / ((1 - b1 ** t) * (u + eps))
    return w


def ref_nadam(w, gs, lr=0.001, b1=0.9, b2=0.999, eps=EPS):
    """Keras 3's Nadam: momentum schedule μ_t = β1·(1 − ½·0.96^t)."""
    w, m, v = w.copy(), np.zeros_like(w), np.zeros_like(w)
    u_product = 1.0
    for t, g in enumerate(gs, start=1):
        mu_t = b1 * (1 - 0.5 * 0.96 ** t)
        mu_next = b1 * (1 - 0.5 * 0.96 ** (t + 1))
        u_product = u_product * mu_t
        m = m + (g - m) * (1 - b1)
        v = v + (g * g - v) * (1 - b2)
        m_hat = mu_next * m / (1 - u_product * mu_next) + (1 - mu_t) * g / (1 - u_product)
        v_hat = v / (1 - b2 ** t)
        w = w - lr * m_hat / (np.sqrt(v_hat) + eps)
    return w


CASES = [
    ("sgd", lambda: optimizers.SGD(), lambda w, gs: ref_sgd(w, gs)),
    ("sgd_lr", lambda: optimizers.SGD(0.1), lambda w, gs: ref_sgd(w, gs, lr=0.1)),
    ("sgd_momentum", lambda: optimizers.SGD(0.1, momentum=0.9),
     lambda w, gs: ref_sgd(w, gs, 0.1, 0.9)),
    ("sgd_nesterov", lambda: optimizers.SGD(0.1, momentum=0.9, nesterov=True),
     lambda w, gs: ref_sgd(w, gs, 0.1, 0.9, True)),
    ("adagrad", lambda: optimizers.Adagrad(0.1), lambda w, gs: ref_adagrad(w, gs, 0.1)),
    ("rmsprop", lambda: optimizers.RMSprop(0.01), lambda w, gs: ref_rmsprop(w, gs, 0.01)),
    ("rmsprop_momentum", lambda: optimizers.RMSprop(0.01, momentum=0.5),
     lambda w, gs: ref_rmsprop(w, gs, 0.01, momentum=0.5)),
    ("rmsprop_centered", lambda: optimizers.RMSprop(0.01, centered=True),
     lambda w, gs: ref_rmsprop(w, gs, 0.01, centered=True)),
    ("rmsprop_centered_momentum", lambda: optimizers.RMSprop(0.01, rho=0.8, momentum=0.3,
                                                             centered=True),
     lambda w, gs: ref_rmsprop(w, gs, 0.01, rho=0.8, momentum=0.3, centered=True)),
    ("adam", lambda: optimizers.Adam(0.01), lambda w, gs: ref_adam(w, gs, 0.01)),
    ("adam_betas", lambda: optimizers.Adam(0.01, beta_1=0.5, beta_2=0.9, epsilon=1e-3),
     lambda w, gs: ref_adam(w, gs, 0.01, 0.5, 0.9, 1e-3)),
    ("adam_amsgrad", lambda: optimizers.Adam(0.01, amsgrad=True),
     lambda w, gs: ref_adam(w, gs, 0.01, amsgrad=True)),
    ("adamw", lambda: optimizers.AdamW(0.01), lambda w, gs: ref_adam(w, gs, 0.01, wd=0.004)),
    ("adamw_wd", lambda: optimizers.AdamW(0.01, weight_decay=0.1),
     lambda w, gs: ref_adam(w, gs, 0.01, wd=0.1)),
    ("adamax", lambda: optimizers.Adamax(0.01), lambda w, gs: ref_adamax(w, gs, 0.01)),
    ("nadam", lambda: optimizers.Nadam(0.01), lambda w, gs: ref_nadam(w, gs, 0.01)),
]


@pytest.mark.parametrize("name,make,ref", CASES, ids=[c[0] for c in CASES])
def test_update_rule_matches_formula(name, make, ref):
    params, grads = _problem()
    opt = make()
    got = _run(opt, params, grads)
    for i, w in enumerate(params):
        expected = ref(w, [step[i] for step in grads])
        np.testing.assert_allclose(got[i], expected, rtol=1e-12, atol=1e-14,
                                   err_msg=f"{name}: parameter {i} after {STEPS} steps")
    assert opt.iterations == STEPS


def test_updates_are_in_place():
    params, grads = _problem()
    ws = [p.copy() for p in params]
    ids = [id(w) for w in ws]
    opt = optimizers.Adam(0.1)
    opt.apply(ws, grads[0])
    assert [id(w) for w in ws] == ids
    assert not np.allclose(ws[0], params[0])


@pytest.mark.parametrize("name,defaults", [
    ("SGD", {"learning_rate": 0.01, "momentum": 0.0, "nesterov": False}),
    ("Adagrad", {"learning_rate": 0.001, "initial_accumulator_value": 0.1, "epsilon": 1e-7}),
    ("RMSprop", {"learning_rate": 0.001, "rho": 0.9, "momentum": 0.0, "epsilon": 1e-7,
                 "centered": False}),
    ("Adam", {"learning_rate": 0.001, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7,
              "amsgrad": False}),
    ("AdamW", {"learning_rate": 0.001, "weight_decay": 0.004}),
    ("Adamax", {"learning_rate": 0.001, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7}),
    ("Nadam", {"learning_rate": 0.001, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7}),
])
def test_keras_defaults(name, defaults):
    config = getattr(keras.optimizers, name)().get_config()
    for k, v in defaults.items():
        assert config[k] == pytest.approx(v), f"{name}.{k}"


@pytest.mark.parametrize("name,cls", [("sgd", optimizers.SGD), ("SGD", optimizers.SGD),
                                      ("adam", optimizers.Adam), ("Adam", optimizers.Adam),
                                      ("rmsprop", optimizers.RMSprop), ("adagrad", optimizers.Adagrad),
                                      ("nadam", optimizers.Nadam), ("adamax", optimizers.Adamax),
                                      ("adamw", optimizers.AdamW)])
def test_get_by_name_case_insensitive(name, cls):
    assert type(optimizers.get(name)) is cls


def test_unknown_optimizer_suggests_closest():
    with pytest.raises(ValueError, match=r"'adm'.*Did you mean 'adam'"):
        optimizers.get("adm")


# ------------------------------------------------------------------ clipping and decay
def test_clipvalue():
    params, grads = _problem()
    got = _run(optimizers.SGD(0.1, clipvalue=0.5), params, grads)
    for i, w in enumerate(params):
        expected = ref_sgd(w, [np.clip(s[i], -0.5, 0.5) for s in grads], lr=0.1)
        np.testing.assert_allclose(got[i], expected, rtol=1e-12)


def test_clipnorm_is_per_gradient():
    params, grads = _problem()
    c = 0.7

    def clip(g):
        n = np.sqrt((g ** 2).sum())
        return g * c / max(n, c)

    got = _run(optimizers.SGD(0.1, clipnorm=c), params, grads)
    for i, w in enumerate(params):
        np.testing.assert_allclose(got[i], ref_sgd(w, [clip(s[i]) for s in grads], lr=0.1),
                                   rtol=1e-12)


def test_global_clipnorm_uses_the_joint_norm():
    params, grads = _problem()
    c = 0.9
    got = _run(optimizers.SGD(0.1, global_clipnorm=c), params, grads)
    clipped = []
    for step in grads:
        n = math.sqrt(sum((g ** 2).sum() for g in step))
        clipped.append([g * c / max(n, c) for g in step])
    for i, w in enumerate(params):
        np.testing.assert_allclose(got[i], ref_sgd(w, [s[i] for s in clipped], lr=0.1), rtol=1e-12)


def test_clip_options_are_exclusive():
    with pytest.raises(ValueError):
        optimizers.SGD(clipnorm=1.0, clipvalue=1.0)


def test_weight_decay_on_sgd():
    params, grads = _problem()
    lr, wd = 0.1, 0.01
    got = _run(optimizers.SGD(lr, weight_decay=wd), params, grads)
    for i, w in enumerate(params):
        w = w.copy()
        for s in grads:
            w = w - lr * wd * w
            w = w - lr * s[i]
        np.testing.assert_allclose(got[i], w, rtol=1e-12)


# ------------------------------------------------------------------ learning rate
def test_lr_alias_warns_and_is_used():
    with pytest.warns(Warning, match="lr"):
        opt = optimizers.Adam(lr=0.05)
    assert opt.learning_rate == pytest.approx(0.05)


def test_decay_argument_is_ignored_with_warning():
    with pytest.warns(Warning, match="decay"):
        optimizers.SGD(0.1, decay=0.01)


def test_unknown_keyword_is_an_error():
    with pytest.raises(TypeError, match="bogus"):
        optimizers.SGD(bogus=1)


def test_learning_rate_setter():
    opt = optimizers.SGD(0.1)
    opt.learning_rate = 0.5
    assert opt.learning_rate == 0.5
    params, grads = _problem()
    got = _run(opt, params, grads)
    np.testing.assert_allclose(got[1], ref_sgd(params[1], [s[1] for s in grads], lr=0.5))


def test_exponential_decay_formula():
    s = optimizers.schedules.ExponentialDecay(0.1, decay_steps=3, decay_rate=0.5)
    for step in range(10):
        assert s(step) == pytest.approx(0.1 * 0.5 ** (step / 3), rel=1e-12)
    st = keras.optimizers.schedules.ExponentialDecay(0.1, 3, 0.5, staircase=True)
    for step in range(10):
        assert st(step) == pytest.approx(0.1 * 0.5 ** (step // 3), rel=1e-12)


def test_piecewise_constant_decay():
    s = optimizers.schedules.PiecewiseConstantDecay([2, 5], [1.0, 0.5, 0.1])
    assert [s(i) for i in range(8)] == [1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.1, 0.1]
    with pytest.raises(ValueError):
        optimizers.schedules.PiecewiseConstantDecay([2], [1.0])


def test_cosine_decay():
    s = optimizers.schedules.CosineDecay(0.2, decay_steps=10, alpha=0.1)
    for step in range(14):
        c = 0.5 * (1 + math.cos(math.pi * min(step, 10) / 10))
        assert s(step) == pytest.approx(0.2 * ((1 - 0.1) * c + 0.1), rel=1e-12)
    w = optimizers.schedules.CosineDecay(0.0, decay_steps=10, warmup_target=0.1, warmup_steps=5)
    assert w(0) == 0.0 and w(5) == pytest.approx(0.1) and w(2) == pytest.approx(0.04)
    assert w(10) == pytest.approx(0.1 * 0.5 * (1 + math.cos(math.pi * 5 / 10)))


def test_schedule_drives_the_steps():
    """Step t (0-based) uses schedule(t), as Keras evaluates it at `iterations` before the step."""
    sched = optimizers.schedules.ExponentialDecay(0.1, decay_steps=1, decay_rate=0.5)
    opt = optimizers.SGD(sched)
    w = np.array([1.0])
    for t in range(STEPS):
        assert opt.iterations == t
        assert opt.learning_rate == pytest.approx(0.1 * 0.5 ** t)
        opt.apply([w], [np.array([1.0])])
    assert w[0] == pytest.approx(1.0 - sum(0.1 * 0.5 ** t for t in range(STEPS)))
    assert opt.get_config()["learning_rate"]["class_name"] == "ExponentialDecay"


def test_callable_learning_rate_of_the_step():
    opt = optimizers.SGD(lambda step: 0.1 / (1 + step))
    w = np.array([0.0])
    for _ in range(3):
        opt.apply([w], [np.array([1.0])])
    assert w[0] == pytest.approx(-(0.1 + 0.05 + 0.1 / 3))


def test_callable_learning_rate_without_arguments():
    """Keras 3 calls a plain callable learning rate with no arguments."""
    value = {"lr": 0.1}
    opt = optimizers.SGD(lambda: value["lr"])
    w = np.array([0.0])
    opt.apply([w], [np.array([1.0])])
    value["lr"] = 0.01
    opt.apply([w], [np.array([1.0])])
    assert w[0] == pytest.approx(-0.11)


def test_iterations_count_and_variables():
    params, grads = _problem()
    opt = optimizers.Adam()
    _run(opt, params, grads)
    assert opt.iterations == STEPS
    variables = opt.variables
    assert int(variables[0]) == STEPS
    assert len(variables) == 2 + 2 * len(params)       # iteration, lr, (m, v) per parameter


def test_config_round_trip():
    opt = optimizers.Adam(0.02, beta_1=0.8, amsgrad=True, clipnorm=1.0)
    again = optimizers.deserialize(optimizers.serialize(opt))
    assert type(again) is optimizers.Adam
    assert again.get_config() == opt.get_config()
    sched = optimizers.SGD(optimizers.schedules.CosineDecay(0.1, 100))
    again = optimizers.SGD.from_config(sched.get_config())
    assert again.learning_rate == pytest.approx(0.1)
    assert isinstance(again._learning_rate, optimizers.schedules.CosineDecay)


def test_sgd_momentum_range():
    with pytest.raises(ValueError, match="momentum"):
        optimizers.SGD(momentum=1.5)


def test_float32_parameters_stay_float32():
    w = np.ones(3, dtype=np.float32)
    for opt in (optimizers.SGD(0.1, momentum=0.9), optimizers.Adam(), optimizers.RMSprop(),
                optimizers.Adagrad(), optimizers.Nadam(), optimizers.Adamax()):
        ws = [w.copy()]
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            opt.apply(ws, [np.full(3, 0.5, dtype=np.float32)])
        assert ws[0].dtype == np.float32, type(opt).__name__
