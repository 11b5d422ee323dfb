"""Conv2D, Conv1D, DepthwiseConv2D and Conv2DTranspose: forward against a nested-loop
reference convolution, backward against central differences (float64)."""
from __future__ import annotations

import numpy as np
import pytest
from conftest import check_gradients, keras_same_padding

from mitbadak.layers import Conv1D, Conv2D, Conv2DTranspose, Convolution2D, DepthwiseConv2D


def reference_conv2d(x, kernel, bias, strides, padding, dilation=(1, 1), groups=1):
    """The definition, one output value at a time: y[n,p,q,f] = b[f] + Σ x[n, p·sh + i·dh − top,
    q·sw + j·dw − left, c]·k[i,j,c,f] over the cells inside the image, c in f's group."""
    N, H, W, C = x.shape
    kh, kw, cg, F = kernel.shape
    (sh, sw), (dh, dw) = strides, dilation
    if padding == "valid":
        OH, OW = (H - (kh - 1) * dh - 1) // sh + 1, (W - (kw - 1) * dw - 1) // sw + 1
        top = left = 0
    else:
        (OH, top), (OW, left) = keras_same_padding(H, kh, sh, dh), keras_same_padding(W, kw, sw, dw)
    y = np.zeros((N, OH, OW, F))
    fg = F // groups
    for n in range(N):
        for p in range(OH):
            for q in range(OW):
                for f in range(F):
                    g = f // fg
                    acc = 0.0 if bias is None else bias[f]
                    for i in range(kh):
                        for j in range(kw):
                            h, w = p * sh + i * dh - top, q * sw + j * dw - left
                            if 0 <= h < H and 0 <= w < W:
                                acc += x[n, h, w, g * cg:(g + 1) * cg] @ kernel[i, j, :, f]
                    y[n, p, q, f] = acc
    return y


CASES = [  # (input (H, W, C), filters, kernel, strides, padding, dilation, groups)
    ((7, 5, 2), 3, (3, 3), (1, 1), "valid", (1, 1), 1),
    ((7, 5, 2), 3, (3, 2), (1, 1), "same", (1, 1), 1),
    ((7, 5, 3), 2, (3, 3), (2, 2), "same", (1, 1), 1),
    ((7, 5, 3), 2, (2, 3), (2, 1), "valid", (1, 1), 1),
    ((8, 6, 2), 4, (4, 4), (3, 2), "same", (1, 1), 1),
    ((7, 6, 2), 3, (3, 2), (1, 1), "same", (2, 2), 1),
    ((7, 7, 1), 2, (3, 3), (1, 1), "valid", (2, 3), 1),
    ((6, 5, 4), 6, (3, 3), (1, 1), "same", (1, 1), 2),
    ((7, 5, 6), 3, (2, 2), (2, 2), "valid", (1, 1), 3),
    ((5, 4, 2), 3, (1, 1), (1, 1), "valid", (1, 1), 1),
]


@pytest.mark.parametrize("shape,filters,kernel,strides,padding,dilation,groups", CASES)
def test_conv2d_forward_matches_loop_reference(shape, filters, kernel, strides, padding,
                                               dilation, groups, rng):
    layer = Conv2D(filters, kernel, strides=strides, padding=padding, dilation_rate=dilation,
                   groups=groups, bias_initializer="glorot_uniform", dtype="float64")
    x = rng.normal(size=(2,) + shape)
    y = layer(x)
    k, b = layer.get_weights()
    assert k.shape == kernel + (shape[-1] // groups, filters)
    np.testing.assert_allclose(y, reference_conv2d(x, k, b, strides, padding, dilation, groups),
                               rtol=1e-6, atol=1e-6)
    assert layer.compute_output_shape((None,) + shape) == (None,) + y.shape[1:]


@pytest.mark.parametrize("shape,filters,kernel,strides,padding,dilation,groups", CASES)
def test_conv2d_gradients(shape, filters, kernel, strides, padding, dilation, groups, rng):
    layer = Conv2D(filters, kernel, strides=strides, padding=padding, dilation_rate=dilation,
                   groups=groups, activation="tanh", bias_initializer="glorot_uniform",
                   dtype="float64")
    check_gradients(layer, rng.normal(size=(2,) + shape))


def test_conv2d_float32_forward_matches_reference(rng):
    layer = Conv2D(5, (3, 3), padding="same", activation="relu")
    x = rng.normal(size=(2, 9, 7, 3)).astype(np.float32)
    y = layer(x)
    assert y.dtype == np.float32 and layer.cols.dtype == np.float32
    k, b = layer.get_weights()
    ref = np.maximum(reference_conv2d(x.astype(np.float64), k.astype(np.float64), b,
                                      (1, 1), "same"), 0)
    np.testing.assert_allclose(y, ref, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("activation", ["relu", "sigmoid", None])
def test_conv2d_activations_and_no_bias(activation, rng):
    layer = Conv2D(3, 2, use_bias=False, activation=activation, dtype="float64")
    x = rng.normal(size=(2, 5, 4, 2)) + 0.05      # keep relu's inputs away from its kink
    check_gradients(layer, x)
    assert [w.name for w in layer.weights] == ["kernel"]


def test_conv2d_channels_first_equals_channels_last(rng):
    x = rng.normal(size=(2, 7, 5, 3))
    last = Conv2D(4, (3, 2), strides=(2, 1), padding="same", dtype="float64")
    first = Conv2D(4, (3, 2), strides=(2, 1), padding="same", data_format="channels_first",
                   dtype="float64")
    y_last = last(x)
    first(x.transpose(0, 3, 1, 2))
    first.set_weights(last.get_weights())
    y_first = first(x.transpose(0, 3, 1, 2))
    np.testing.assert_allclose(y_first, y_last.transpose(0, 3, 1, 2), rtol=1e-12)
    assert first.compute_output_shape((None, 3, 7, 5)) == (None, 4, 4, 5)
    check_gradients(first, x.transpose(0, 3, 1, 2).copy())


def test_conv2d_skips_input_gradient_for_the_first_layer(rng):
    layer = Conv2D(2, 3, dtype="float64")
    y = layer(rng.normal(size=(1, 5, 5, 1)))
    layer.needs_input_grad = False
    assert layer.backward(np.ones_like(y)) is None
    assert set(layer.grads) == {"kernel", "bias"}


def test_conv2d_skip_activation_takes_dz(rng):
    """With skip_activation the incoming gradient is dL/dz: dx must then equal the dx of the
    same convolution without an activation."""
    x = rng.normal(size=(1, 3, 3, 2))
    layer = Conv2D(2, 2, activation="softmax", dtype="float64")
    linear = Conv2D(2, 2, dtype="float64")
    layer(x)
    linear(x)
    linear.set_weights(layer.get_weights())
    dz = rng.normal(size=(1, 2, 2, 2))
    np.testing.assert_allclose(layer.backward(dz, skip_activation=True), linear.backward(dz),
                               rtol=1e-12)
    np.testing.assert_allclose(layer.grads["kernel"], linear.grads["kernel"], rtol=1e-12)


def test_convolution2d_alias_and_kernel_layout():
    assert Convolution2D is Conv2D
    layer = Conv2D(8, (5, 3), input_shape=(28, 28, 1))
    layer.build((None, 28, 28, 1))
    assert layer.kernel.shape == (5, 3, 1, 8) and layer.bias.shape == (8,)


# ------------------------------------------------------------------ Conv1D
@pytest.mark.parametrize("kernel,strides,padding,dilation,groups", [
    (3, 1, "valid", 1, 1), (3, 2, "same", 1, 1), (4, 1, "same", 2, 1), (3, 1, "causal", 2, 1),
    (2, 3, "causal", 1, 1), (3, 1, "same", 1, 2)])
def test_conv1d_matches_conv2d_reference_and_gradients(kernel, strides, padding, dilation,
                                                       groups, rng):
    layer = Conv1D(4, kernel, strides=strides, padding=padding, dilation_rate=dilation,
                   groups=groups, bias_initializer="glorot_uniform", dtype="float64")
    x = rng.normal(size=(2, 9, 4))
    y = layer(x)
    k, b = layer.get_weights()
    assert k.shape == (kernel, 4 // groups, 4)
    if padding == "causal":        # causal = (k_eff − 1) zeros before the sequence, then 'valid'
        xr = np.concatenate([np.zeros((2, (kernel - 1) * dilation, 4)), x], axis=1)
        ref = reference_conv2d(xr[:, None], k[None], b, (1, strides), "valid", (1, dilation),
                               groups)[:, 0]
        ref = ref[:, :-(-9 // strides)]
    else:
        ref = reference_conv2d(x[:, None], k[None], b, (1, strides), padding, (1, dilation),
                               groups)[:, 0]
    np.testing.assert_allclose(y, ref, rtol=1e-6, atol=1e-6)
    assert layer.compute_output_shape((None, 9, 4)) == (None,) + y.shape[1:]
    check_gradients(layer, x)


def test_conv1d_channels_first(rng):
    layer = Conv1D(3, 2, data_format="channels_first", dtype="float64")
    x = rng.normal(size=(2, 4, 6))
    assert check_gradients(layer, x).shape == (2, 3, 5)


# ------------------------------------------------------------------ DepthwiseConv2D
@pytest.mark.parametrize("multiplier,strides,padding", [(1, 1, "valid"), (2, 2, "same"),
                                                        (3, 1, "same")])
def test_depthwise_conv2d(multiplier, strides, padding, rng):
    layer = DepthwiseConv2D((3, 2), strides=strides, padding=padding,
                            depth_multiplier=multiplier, bias_initializer="glorot_uniform",
                            dtype="float64")
    x = rng.normal(size=(2, 7, 5, 3))
    y = check_gradients(layer, x)
    k, b = layer.get_weights()
    assert k.shape == (3, 2, 3, multiplier) and b.shape == (3 * multiplier,)
    # Output channel c·m + j is input channel c convolved with k[:, :, c, j].
    for c in range(3):
        for j in range(multiplier):
            ref = reference_conv2d(x[..., c:c + 1], k[:, :, c:c + 1, j:j + 1],
                                   b[c * multiplier + j:c * multiplier + j + 1],
                                   (strides, strides), padding)
            np.testing.assert_allclose(y[..., c * multiplier + j], ref[..., 0], atol=1e-6)


# ------------------------------------------------------------------ Conv2DTranspose
def transposed_length(n, k, s, padding, output_padding=None):
    """Keras's conv-transpose output length, written from its definition."""
    if output_padding is None:
        return n * s + max(k - s, 0) if padding == "valid" else n * s
    pad = k // 2 if padding == "same" else 0
    return (n - 1) * s + k - 2 * pad + output_padding


@pytest.mark.parametrize("kernel,strides,padding,output_padding", [
    ((3, 3), (2, 2), "same", None), ((3, 2), (2, 3), "valid", None),
    ((1, 1), (3, 3), "valid", None),
    ((3, 3), (2, 2), "same", 1), ((4, 4), (2, 2), "valid", (1, 0)), ((2, 3), (1, 1), "same", None)])
def test_conv2d_transpose_is_the_adjoint_of_conv2d(kernel, strides, padding, output_padding, rng):
    layer = Conv2DTranspose(3, kernel, strides=strides, padding=padding,
                            output_padding=output_padding, dtype="float64")
    x = rng.normal(size=(2, 4, 3, 2))
    y = layer(x)
    op = (None, None) if output_padding is None else (
        (output_padding,) * 2 if isinstance(output_padding, int) else output_padding)
    L = tuple(transposed_length(n, k, s, padding, o)
              for n, k, s, o in zip((4, 3), kernel, strides, op))
    assert y.shape == (2,) + L + (3,)
    assert layer.compute_output_shape((None, 4, 3, 2)) == (None,) + L + (3,)
    # <T(x), u> = <x, C(u)>: C is the convolution with the same kernel (kh, kw, 3 -> 2)
    # that maps an L-sized image to the 4x3 input, with Keras's padding rule.
    kernel_w = layer.get_weights()[0]
    u = rng.normal(size=y.shape)
    cu = reference_conv2d(u, kernel_w, None, strides, padding)
    assert cu.shape == x.shape
    np.testing.assert_allclose((y * u).sum(), (x * cu).sum(), rtol=1e-10)
    check_gradients(Conv2DTranspose(3, kernel, strides=strides, padding=padding,
                                    output_padding=output_padding, activation="tanh",
                                    bias_initializer="glorot_uniform", dtype="float64"), x)


def test_conv2d_transpose_hand_example():
    # One pixel value 2 through a 2x2 kernel with stride 2 paints that kernel times 2.
    layer = Conv2DTranspose(1, 2, strides=2, use_bias=False, dtype="float64")
    x = np.array([[[[2.0], [1.0]]]])                       # (1, 1, 2, 1)
    layer(x)
    layer.set_weights([np.array([[1.0, 2.0], [3.0, 4.0]]).reshape(2, 2, 1, 1)])
    y = layer(x)[0, :, :, 0]
    np.testing.assert_allclose(y, [[2, 4, 1, 2], [6, 8, 3, 4]])


def test_default_data_format_follows_the_backend_setting():
    from mitbadak import backend
    backend.set_image_data_format("channels_first")
    try:
        assert Conv2D(2, 3).data_format == "channels_first"
        assert Conv1D(2, 3).data_format == "channels_first"
    finally:
        backend.set_image_data_format("channels_last")
    assert Conv2D(2, 3).data_format == "channels_last"
