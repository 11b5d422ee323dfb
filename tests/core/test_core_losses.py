"""Losses: per-sample values against formulas written here (with Keras's ε = 1e-7 clipping),
the "sum_over_batch_size" reduction with sample weights, published Keras examples, and every
backward (and fused backward) against central differences in float64."""
from __future__ import annotations

import numpy as np
import pytest

from mitbadak import activations, keras, losses

EPS = 1e-7
N, K = 4, 3


# ------------------------------------------------------------------ data away from kinks/clips
def _regression(rng, gap=0.2):
    y = rng.normal(size=(N, K))
    d = rng.uniform(gap, 1.5, size=(N, K)) * rng.choice([-1, 1], size=(N, K))
    return y, y + d


def _probabilities(rng):
    z = rng.normal(size=(N, K))
    return np.exp(z) / np.exp(z).sum(axis=-1, keepdims=True)


def _onehot(rng):
    return np.eye(K)[rng.integers(0, K, size=N)]


def _cases(rng):
    """name -> (loss object, y_true, y_pred, reference per-sample function)."""
    y, p = _regression(rng)
    ypos, ppos = rng.uniform(0.5, 3, size=(N, K)), rng.uniform(0.5, 3, size=(N, K))
    yprob = rng.uniform(0.05, 0.95, size=(N, K))
    pprob = rng.uniform(0.05, 0.95, size=(N, K))
    logits = rng.normal(size=(N, K)) * 2
    onehot = _onehot(rng)
    labels = rng.integers(0, K, size=N)
    unnormalised = rng.uniform(0.2, 2.0, size=(N, K))     # CCE normalises p by its row sum
    hinge_y = rng.choice([-1.0, 1.0], size=(N, K))
    hinge_p = rng.uniform(-2, 2, size=(N, K))
    hinge_p[np.abs(1 - hinge_y * hinge_p) < 0.1] += 0.3
    delta_far = y + rng.uniform(0.1, 0.8, size=(N, K)) * rng.choice([-1, 1], size=(N, K))
    delta_far[::2] += 2.0 * np.sign(delta_far[::2] - y[::2])     # some beyond delta=1

    def softmax(z):
        e = np.exp(z - z.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)

    def smooth_cat(t, s):
        return t * (1 - s) + s / t.shape[-1]

    def cce(t, q):
        q = np.clip(q / q.sum(axis=-1, keepdims=True), EPS, 1 - EPS)
        return -(t * np.log(q)).sum(axis=-1)

    def bce(t, q):
        q = np.clip(q, EPS, 1 - EPS)
        return -(t * np.log(q) + (1 - t) * np.log(1 - q)).mean(axis=-1)

    def huber(t, q, delta=1.0):
        e = np.abs(q - t)
        return np.where(e <= delta, 0.5 * e ** 2, delta * e - 0.5 * delta ** 2).mean(axis=-1)

    def cosine(t, q):
        tn = t / np.linalg.norm(t, axis=-1, keepdims=True)
        qn = q / np.linalg.norm(q, axis=-1, keepdims=True)
        return -(tn * qn).sum(axis=-1)

    def custom(t, q):           # a user's loss function: per-sample values
        return np.mean((t - q) ** 4, axis=-1) + np.sum(np.sin(q), axis=-1)

    ignore = labels.copy()
    ignore[1] = 2
    keep = ignore != 2

    return {
        "mse": (losses.MeanSquaredError(), y, p, lambda t, q: ((t - q) ** 2).mean(-1)),
        "mae": (losses.MeanAbsoluteError(), y, p, lambda t, q: np.abs(t - q).mean(-1)),
        "mape": (losses.MeanAbsolutePercentageError(), ypos, ppos + 0.3 * np.sign(ppos - ypos),
                 lambda t, q: 100 * (np.abs(t - q) / np.abs(t)).mean(-1)),
        "msle": (losses.MeanSquaredLogarithmicError(), ypos, ppos,
                 lambda t, q: ((np.log1p(q) - np.log1p(t)) ** 2).mean(-1)),
        "huber": (losses.Huber(), y, delta_far, huber),
        "huber_delta": (losses.Huber(delta=0.5), y, delta_far, lambda t, q: huber(t, q, 0.5)),
        "logcosh": (losses.LogCosh(), y, p, lambda t, q: np.log(np.cosh(q - t)).mean(-1)),
        "bce": (losses.BinaryCrossentropy(), yprob, pprob, bce),
        "bce_hard": (losses.BinaryCrossentropy(), (yprob > 0.5) * 1.0, pprob, bce),
        "bce_logits": (losses.BinaryCrossentropy(from_logits=True), yprob, logits,
                       lambda t, z: bce(t, 1 / (1 + np.exp(-z)))),
        "bce_smooth": (losses.BinaryCrossentropy(label_smoothing=0.2), (yprob > 0.5) * 1.0, pprob,
                       lambda t, q: bce(t * 0.8 + 0.1, q)),
        "bce_logits_smooth": (losses.BinaryCrossentropy(from_logits=True, label_smoothing=0.1),
                              (yprob > 0.5) * 1.0, logits,
                              lambda t, z: bce(t * 0.9 + 0.05, 1 / (1 + np.exp(-z)))),
        "cce": (losses.CategoricalCrossentropy(), onehot, unnormalised, cce),
        "cce_soft_labels": (losses.CategoricalCrossentropy(), _probabilities(rng), _probabilities(rng),
                            cce),
        "cce_logits": (losses.CategoricalCrossentropy(from_logits=True), onehot, logits,
                       lambda t, z: cce(t, softmax(z))),
        "cce_smooth": (losses.CategoricalCrossentropy(label_smoothing=0.1), onehot,
                       _probabilities(rng), lambda t, q: cce(smooth_cat(t, 0.1), q)),
        "cce_logits_smooth": (losses.CategoricalCrossentropy(from_logits=True, label_smoothing=0.3),
                              onehot, logits, lambda t, z: cce(smooth_cat(t, 0.3), softmax(z))),
        "scce": (losses.SparseCategoricalCrossentropy(), labels, unnormalised,
                 lambda t, q: cce(np.eye(K)[t], q)),
        "scce_logits": (losses.SparseCategoricalCrossentropy(from_logits=True), labels, logits,
                        lambda t, z: cce(np.eye(K)[t], softmax(z))),
        # ignore_class: ignored samples count 0 and the mean is over the kept ones only.
        "scce_ignore": (losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=2),
                        ignore, logits,
                        lambda t, z: keep * cce(np.eye(K)[np.where(keep, t, 0)], softmax(z))
                        * (len(t) / keep.sum())),
        "hinge": (losses.Hinge(), hinge_y, hinge_p,
                  lambda t, q: np.maximum(1 - t * q, 0).mean(-1)),
        "squared_hinge": (losses.SquaredHinge(), hinge_y, hinge_p,
                          lambda t, q: (np.maximum(1 - t * q, 0) ** 2).mean(-1)),
        "kld": (losses.KLDivergence(), _probabilities(rng), _probabilities(rng),
                lambda t, q: (t * np.log(t / q)).sum(-1)),
        "poisson": (losses.Poisson(), ypos, ppos, lambda t, q: (q - t * np.log(q + EPS)).mean(-1)),
        "cosine": (losses.CosineSimilarity(), y, p, cosine),
        "custom": (losses.get(custom), y, p, custom),
    }


CASE_NAMES = list(_cases(np.random.default_rng(0)))


@pytest.mark.parametrize("name", CASE_NAMES)
def test_per_sample_value_matches_formula(name):
    loss, y, p, ref = _cases(np.random.default_rng(7))[name]
    yt = loss.prepare_targets(y, p)
    got = loss.forward(yt, p.copy())
    np.testing.assert_allclose(got, ref(y, p), rtol=1e-10, atol=1e-12)
    # The batch loss: mean of the per-sample values (sum_over_batch_size).
    np.testing.assert_allclose(float(loss(y, p)), ref(y, p).mean(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", CASE_NAMES)
def test_backward_matches_central_differences(name, numgrad, gradclose):
    loss, y, p, _ = _cases(np.random.default_rng(11))[name]
    yt = loss.prepare_targets(y, p)
    p = p.copy()
    analytic = loss.backward(yt, p.copy())
    numeric = numgrad(lambda: loss.forward(yt, p).sum(), p)
    gradclose(analytic, numeric, rtol=1e-5, atol=1e-6, what=f"{name}.backward")


# ------------------------------------------------------------------ fused gradients
FUSED = {
    "cce": (lambda: losses.CategoricalCrossentropy(), activations.softmax, "onehot"),
    "cce_smooth": (lambda: losses.CategoricalCrossentropy(label_smoothing=0.2),
                   activations.softmax, "onehot"),
    "scce": (lambda: losses.SparseCategoricalCrossentropy(), activations.softmax, "labels"),
    "bce": (lambda: losses.BinaryCrossentropy(), activations.sigmoid, "binary"),
    "bce_smooth": (lambda: losses.BinaryCrossentropy(label_smoothing=0.1), activations.sigmoid,
                   "binary"),
}


@pytest.mark.parametrize("name", list(FUSED))
def test_fused_backward_equals_chain_and_numerical(name, rng, numgrad, gradclose):
    make, act, kind = FUSED[name]
    loss = make()
    assert loss.fuses_with == act.__name__
    z = rng.normal(size=(N, K))
    y = {"onehot": _onehot(rng), "labels": rng.integers(0, K, size=N),
         "binary": rng.integers(0, 2, size=(N, K)).astype(float)}[kind]
    p = act(z)
    yt = loss.prepare_targets(y, p)
    fused = loss.fused_backward(yt, p)
    chain = act.backward(z, p, loss.backward(yt, p))
    gradclose(fused, chain, rtol=1e-7, atol=1e-9, what=f"{name}: fused vs chain")
    numeric = numgrad(lambda: loss.forward(yt, act(z)).sum(), z)
    gradclose(fused, numeric, rtol=1e-5, atol=1e-7, what=f"{name}: fused vs numerical")


def test_fused_softmax_gradient_is_p_minus_t():
    # The notes' Softmax-with-Loss result, by hand: dL/dz = p − t.
    p = np.array([[0.1, 0.7, 0.2]])
    t = np.array([[0.0, 1.0, 0.0]])
    np.testing.assert_allclose(losses.CategoricalCrossentropy().fused_backward(t, p),
                               [[0.1, -0.3, 0.2]])
    loss = losses.SparseCategoricalCrossentropy()
    np.testing.assert_allclose(loss.fused_backward(np.array([1]), p), [[0.1, -0.3, 0.2]])


# ------------------------------------------------------------------ epsilon clipping
def test_bce_clips_probabilities_to_epsilon():
    y = np.array([[1.0, 0.0, 1.0, 0.0]])
    p = np.array([[0.0, 1.0, 1.0, 0.0]])
    q = np.clip(p, EPS, 1 - EPS)
    expected = -(y * np.log(q) + (1 - y) * np.log(1 - q)).mean()
    got = losses.BinaryCrossentropy()(y, p)
    assert np.isfinite(got)
    np.testing.assert_allclose(got, expected, rtol=1e-9)
    # two wrong answers at the clip (−log ε each), two right ones (−log(1 − ε) ≈ ε each)
    np.testing.assert_allclose(got, (2 * -np.log(EPS) + 2 * -np.log(1 - EPS)) / 4, rtol=1e-6)
    # The clipped entries pass no gradient (the clip is flat there, as in Keras).
    g = losses.BinaryCrossentropy().backward(y, p)
    np.testing.assert_array_equal(g, np.zeros_like(g))


def test_cce_clips_zero_probability():
    y = np.array([[1.0, 0.0, 0.0]])
    p = np.array([[0.0, 1.0, 0.0]])
    np.testing.assert_allclose(losses.CategoricalCrossentropy()(y, p), -np.log(EPS), rtol=1e-9)
    np.testing.assert_allclose(losses.SparseCategoricalCrossentropy()(np.array([0]), p),
                               -np.log(EPS), rtol=1e-9)
    assert abs(-np.log(EPS) - 16.11809565) < 1e-7


def test_cce_normalises_rows():
    y = np.array([[0.0, 1.0]])
    np.testing.assert_allclose(losses.CategoricalCrossentropy()(y, np.array([[2.0, 2.0]])),
                               np.log(2), rtol=1e-12)


def test_kld_and_poisson_epsilon():
    y = np.array([[0.0, 1.0]])
    p = np.array([[0.5, 0.0]])
    yc, pc = np.clip(y, EPS, 1), np.clip(p, EPS, 1)
    np.testing.assert_allclose(losses.KLDivergence()(y, p), (yc * np.log(yc / pc)).sum(), rtol=1e-12)
    np.testing.assert_allclose(losses.Poisson()(y, p), (p - y * np.log(p + EPS)).mean(), rtol=1e-12)


def test_epsilon_follows_backend_setting():
    keras.backend.set_epsilon(1e-3)
    try:
        got = losses.BinaryCrossentropy()(np.array([[1.0]]), np.array([[0.0]]))
        np.testing.assert_allclose(got, -np.log(1e-3), rtol=1e-9)
    finally:
        keras.backend.set_epsilon(1e-7)


# ------------------------------------------------------------------ reduction and weights
def test_sum_over_batch_size_with_sample_weight(rng):
    y, p = _regression(rng)
    w = np.array([0.5, 2.0, 0.0, 1.5])
    per_sample = ((y - p) ** 2).mean(axis=-1)
    np.testing.assert_allclose(losses.MeanSquaredError()(y, p, sample_weight=w),
                               (w * per_sample).sum() / N, rtol=1e-12)
    # Zero weights still count in the denominator (sum over *batch size*).
    np.testing.assert_allclose(losses.MeanSquaredError()(y, p, sample_weight=np.ones(N) * 0),
                               0.0)


def test_reduction_on_3d_output_divides_by_all_elements(rng):
    y = rng.normal(size=(2, 5, 3))
    p = rng.normal(size=(2, 5, 3))
    w = np.array([1.0, 3.0])
    per = ((y - p) ** 2).mean(axis=-1)                      # (2, 5)
    expected = (per * w[:, None]).sum() / per.size
    np.testing.assert_allclose(losses.MeanSquaredError()(y, p, sample_weight=w), expected)


def test_reductions_sum_and_none(rng):
    y, p = _regression(rng)
    per = np.abs(y - p).mean(axis=-1)
    np.testing.assert_allclose(losses.MeanAbsoluteError(reduction="sum")(y, p), per.sum())
    np.testing.assert_allclose(losses.MeanAbsoluteError(reduction="none")(y, p), per)


# ------------------------------------------------------------------ published Keras examples
A_TRUE = [[0.0, 1.0], [0.0, 0.0]]
PUBLISHED = [
    # (loss, y_true, y_pred, value, sample_weight, weighted value) from the Keras API docs
    (losses.MeanSquaredError(), A_TRUE, [[1.0, 1.0], [1.0, 0.0]], 0.5, [0.7, 0.3], 0.25),
    (losses.MeanAbsoluteError(), A_TRUE, [[1.0, 1.0], [1.0, 0.0]], 0.5, [0.7, 0.3], 0.25),
    (losses.MeanAbsolutePercentageError(), [[2.0, 1.0], [2.0, 3.0]], [[1.0, 1.0], [1.0, 0.0]],
     50.0, [0.7, 0.3], 20.0),
    (losses.MeanSquaredLogarithmicError(), A_TRUE, [[1.0, 1.0], [1.0, 0.0]], 0.240, [0.7, 0.3],
     0.120),
    (losses.BinaryCrossentropy(), A_TRUE, [[0.6, 0.4], [0.4, 0.6]], 0.815, [1.0, 0.0], 0.458),
    (losses.BinaryCrossentropy(from_logits=True), A_TRUE, [[-18.6, 0.51], [2.94, -12.8]], 0.865,
     [0.8, 0.2], 0.243),
    (losses.CategoricalCrossentropy(), [[0, 1, 0], [0, 0, 1]], [[0.05, 0.95, 0], [0.1, 0.8, 0.1]],
     1.177, [0.3, 0.7], 0.814),
    (losses.SparseCategoricalCrossentropy(), [1, 2], [[0.05, 0.95, 0], [0.1, 0.8, 0.1]], 1.177,
     [0.3, 0.7], 0.814),
    (losses.Hinge(), A_TRUE, [[0.6, 0.4], [0.4, 0.6]], 1.3, [1.0, 0.0], 0.55),
    (losses.SquaredHinge(), A_TRUE, [[0.6, 0.4], [0.4, 0.6]], 1.86, [1.0, 0.0], 0.73),
    (losses.KLDivergence(), A_TRUE, [[0.6, 0.4], [0.4, 0.6]], 0.458, [0.8, 0.2], 0.366),
    (losses.Poisson(), A_TRUE, [[1.0, 1.0], [0.0, 0.0]], 0.5, [0.8, 0.2], 0.4),
    (losses.CosineSimilarity(), [[0.0, 1.0], [1.0, 1.0]], [[1.0, 0.0], [1.0, 1.0]], -0.5,
     [0.8, 0.2], -0.0999),
    (losses.Huber(), A_TRUE, [[0.6, 0.4], [0.4, 0.6]], 0.155, [1.0, 0.0], 0.09),
    (losses.LogCosh(), A_TRUE, [[1.0, 1.0], [0.0, 0.0]], 0.108, [0.8, 0.2], 0.087),
]


@pytest.mark.parametrize("loss,y,p,value,w,weighted", PUBLISHED,
                         ids=[type(c[0]).__name__ + ("_logits" if getattr(c[0], "from_logits", 0)
                                                     else "") for c in PUBLISHED])
def test_published_keras_values(loss, y, p, value, w, weighted):
    y, p = np.array(y, dtype=np.float32), np.array(p, dtype=np.float32)
    assert abs(float(loss(y, p)) - value) < 1e-3
    assert abs(float(loss(y, p, sample_weight=np.array(w))) - weighted) < 1e-3


# ------------------------------------------------------------------ names and lookups
@pytest.mark.parametrize("name,cls", [
    ("mse", losses.MeanSquaredError), ("MSE", losses.MeanSquaredError),
    ("mean_squared_error", losses.MeanSquaredError), ("mae", losses.MeanAbsoluteError),
    ("binary_crossentropy", losses.BinaryCrossentropy),
    ("categorical_crossentropy", losses.CategoricalCrossentropy),
    ("sparse_categorical_crossentropy", losses.SparseCategoricalCrossentropy),
    ("kld", losses.KLDivergence), ("huber", losses.Huber), ("log_cosh", losses.LogCosh)])
def test_get_by_string(name, cls):
    assert type(losses.get(name)) is cls


def test_function_forms_give_per_sample_values(rng):
    y, p = _regression(rng)
    np.testing.assert_allclose(keras.losses.mean_squared_error(y, p), ((y - p) ** 2).mean(-1))
    assert type(losses.get(keras.losses.mse)) is losses.MeanSquaredError


def test_unknown_loss_suggests_closest():
    with pytest.raises(ValueError, match=r"Did you mean 'categorical_crossentropy'"):
        losses.get("categorical_crossentopy")


def test_custom_loss_returning_batch_mean(rng, numgrad, gradclose):
    """A user loss that returns one scalar for the batch (common in Keras code)."""
    y, p = _regression(rng)
    loss = losses.get(lambda t, q: np.mean((t - q) ** 2))
    assert isinstance(loss, losses.LossFunctionWrapper)
    np.testing.assert_allclose(float(loss(y, p)), ((y - p) ** 2).mean(), rtol=1e-10)
    q = p.copy()
    numeric = numgrad(lambda: loss.forward(y, q).sum(), q)
    gradclose(loss.backward(y, p.copy()), numeric, rtol=1e-5, atol=1e-7,
              what="scalar custom loss backward")
