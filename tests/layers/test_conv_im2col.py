"""im2col / col2im: the padding rule, the row layout, and col2im being the exact adjoint
(transpose) of im2col, which is what makes the convolution's backward correct."""
from __future__ import annotations

import numpy as np
import pytest
from conftest import keras_same_padding

from mitbadak.layers.im2col import (col2im, col2im_matmul, effective_size, im2col,
                                    output_length, pad, padding_amounts, unpad)


@pytest.mark.parametrize("size", range(1, 12))
@pytest.mark.parametrize("kernel,stride,dilation", [(1, 1, 1), (2, 1, 1), (3, 2, 1), (5, 3, 1),
                                                    (4, 2, 1), (3, 1, 2), (2, 4, 1)])
def test_padding_follows_keras(size, kernel, stride, dilation):
    out, before = keras_same_padding(size, kernel, stride, dilation)
    assert output_length(size, kernel, stride, dilation, "same") == out
    b, a = padding_amounts(size, kernel, stride, dilation, "same")
    assert b == before and a >= b and a - b <= 1           # the extra pixel goes after
    assert (out - 1) * stride + effective_size(kernel, dilation) <= size + a + b
    assert output_length(size, kernel, stride, dilation, "valid") == \
        (size - (kernel - 1) * dilation - 1) // stride + 1
    assert padding_amounts(size, kernel, stride, dilation, "valid") == (0, 0)
    assert padding_amounts(size, kernel, stride, dilation, "causal") == \
        ((kernel - 1) * dilation, 0)


@pytest.mark.parametrize("channels", [1, 3, 4])
def test_im2col_rows_are_windows_in_kernel_order(rng, channels):
    # C <= 3 is built as a transposed copy (column-major); more channels row by row.
    x = rng.normal(size=(2, 6, 5, channels))
    cols = im2col(x, (3, 2), (2, 1), (1, 2), (2, 3))
    assert cols.shape == (2 * 2 * 3, 3 * 2 * channels) and not np.shares_memory(cols, x)
    assert cols.flags.f_contiguous if channels <= 3 else cols.flags.c_contiguous
    row = np.ascontiguousarray(cols).reshape(2, 2, 3, 3, 2, channels)
    for n, p, q, i, j in np.ndindex(2, 2, 3, 3, 2):
        np.testing.assert_array_equal(row[n, p, q, i, j], x[n, p * 2 + i, q * 1 + j * 2])


def test_im2col_of_a_1x1_kernel_is_a_free_reshape(rng):
    x = rng.normal(size=(2, 4, 3, 5))
    cols = im2col(x, (1, 1), (1, 1), (1, 1), (4, 3))
    assert np.shares_memory(cols, x) and cols.shape == (24, 5)


@pytest.mark.parametrize("kernel,strides,dilation,groups", [
    ((3, 3), (1, 1), (1, 1), 1), ((3, 2), (2, 3), (1, 1), 1), ((2, 2), (1, 1), (2, 3), 1),
    ((3, 3), (2, 2), (1, 1), 2), ((1, 2), (1, 1), (1, 1), 4)])
def test_col2im_is_the_adjoint_of_im2col(kernel, strides, dilation, groups, rng):
    x = rng.normal(size=(2, 7, 6, 4))
    out = tuple(output_length(n, k, s, d, "valid")
                for n, k, s, d in zip((7, 6), kernel, strides, dilation))
    cols = im2col(x, kernel, strides, dilation, out, groups)
    c = rng.normal(size=cols.shape)
    back = col2im(c, x.shape, kernel, strides, dilation, out, groups)
    np.testing.assert_allclose((cols * c).sum(), (x * back).sum(), rtol=1e-12)


@pytest.mark.parametrize("kernel,strides,dilation,groups", [
    ((3, 3), (1, 1), (1, 1), 1), ((3, 2), (2, 3), (1, 1), 1), ((2, 2), (1, 1), (2, 3), 1),
    ((3, 3), (2, 2), (1, 1), 2), ((1, 2), (1, 1), (1, 1), 4)])
def test_col2im_matmul_equals_col2im_of_the_product(kernel, strides, dilation, groups, rng):
    x_shape, F = (2, 7, 6, 4), 8
    out = tuple(output_length(n, k, s, d, "valid")
                for n, k, s, d in zip((7, 6), kernel, strides, dilation))
    w = rng.normal(size=kernel + (4 // groups, F))
    dz = rng.normal(size=(2 * out[0] * out[1], F))
    # The product written per group: rows of group g see filters g·F/G … and channels g·C/G ….
    fg = F // groups
    dcols = np.stack([dz[:, g * fg:(g + 1) * fg] @ w[..., g * fg:(g + 1) * fg]
                      .reshape(-1, fg).T for g in range(groups)])
    expected = col2im(dcols[0] if groups == 1 else dcols, x_shape, kernel, strides, dilation,
                      out, groups)
    np.testing.assert_allclose(col2im_matmul(dz, w, x_shape, strides, dilation, out, groups),
                               expected, rtol=1e-12, atol=1e-12)


def test_pad_and_unpad(rng):
    x = rng.normal(size=(1, 2, 3, 1))
    p = pad(x, ((1, 0), (2, 1)), value=-1.0)
    assert p.shape == (1, 3, 6, 1) and p[0, 0, 0, 0] == -1.0
    np.testing.assert_array_equal(unpad(p, ((1, 0), (2, 1))), x)
    assert pad(x, ((0, 0), (0, 0))) is x
