"""im2col and col2im: the notes' trick that turns a convolution into one matrix product.

Everything here is channels-last: an image batch is ``(N, H, W, C)`` and a kernel is
``(kh, kw, C, F)``, as in Keras. ``im2col`` lays every patch an output pixel sees out as one
row, in the kernel's own ``(kh, kw, C)`` order, so

    cols = im2col(x_padded, (kh, kw), strides, dilation, (OH, OW))    # (N·OH·OW, kh·kw·C)
    y    = cols @ kernel.reshape(kh * kw * C, F)                       # (N·OH·OW, F)

is the convolution (cross-correlation: the kernel is not flipped). ``col2im`` is its adjoint:
it adds every row of a ``(N·OH·OW, kh·kw·C)`` gradient back onto the pixels it came from.

The output size and the padding follow Keras (and TensorFlow):
  'valid': OH = floor((H − k_eff) / s) + 1, no padding;
  'same':  OH = ceil(H / s), total pad = max((OH − 1)·s + k_eff − H, 0), top = total // 2,
           the extra pixel (if any) at the bottom;
  'causal' (1-D only): k_eff − 1 zeros at the start, OH = ceil(H / s),
where k_eff = (k − 1)·d + 1 is the extent of a kernel of size k with dilation d.
"""
from __future__ import annotations

from typing import Any

from ..backend import xp


def effective_size(kernel: int, dilation: int) -> int:
    """The extent of a dilated kernel: 3 with dilation 2 covers 5 pixels."""
    return (kernel - 1) * dilation + 1


def output_length(size: int | None, kernel: int, stride: int, dilation: int,
                  padding: str) -> int | None:
    """The length of one spatial axis after a convolution or pooling window."""
    if size is None:
        return None
    if padding == "valid":
        return (size - effective_size(kernel, dilation)) // stride + 1
    return -(-size // stride)                       # 'same' and 'causal': ceil(size / stride)


def padding_amounts(size: int, kernel: int, stride: int, dilation: int,
                    padding: str) -> tuple[int, int]:
    """(before, after): how many zeros go before and after one axis of length `size`."""
    if padding == "valid":
        return 0, 0
    k_eff = effective_size(kernel, dilation)
    if padding == "causal":
        return k_eff - 1, 0
    total = max((output_length(size, kernel, stride, dilation, padding) - 1) * stride
                + k_eff - size, 0)
    return total // 2, total - total // 2


def pad(x: Any, pads: tuple, value: float = 0.0) -> Any:
    """x (N, H, W, C), pads ((top, bottom), (left, right)) -> (N, H+top+bottom, W+left+right, C)."""
    (t, b), (l, r) = pads
    if not (t or b or l or r):
        return x
    N, H, W, C = x.shape
    out = xp.full((N, H + t + b, W + l + r, C), value, dtype=x.dtype)
    out[:, t:t + H, l:l + W, :] = x
    return out


def unpad(x: Any, pads: tuple) -> Any:
    """The inverse of `pad`: cut the borders off again (a view)."""
    (t, b), (l, r) = pads
    return x[:, t:x.shape[1] - b, l:x.shape[2] - r, :]


def windows(x: Any, kernel_size: tuple, strides: tuple, dilation: tuple,
            out_size: tuple) -> Any:
    """A read-only view (N, OH, OW, kh, kw, C) of every window of x (N, H, W, C); no copy.

    ``windows(x)[n, p, q, i, j, c] == x[n, p·sh + i·dh, q·sw + j·dw, c]``.
    """
    (kh, kw), (sh, sw), (dh, dw), (OH, OW) = kernel_size, strides, dilation, out_size
    # Every (k_eff x k_eff) patch at every position, then keep every s-th position and every
    # d-th pixel of a patch: all views with different strides, nothing is copied.
    v = xp.lib.stride_tricks.sliding_window_view(
        x, (effective_size(kh, dh), effective_size(kw, dw)), axis=(1, 2))
    v = v[:, :(OH - 1) * sh + 1:sh, :(OW - 1) * sw + 1:sw, :, ::dh, ::dw]   # (N,OH,OW,C,kh,kw)
    return v.transpose(0, 1, 2, 4, 5, 3)


def im2col(x: Any, kernel_size: tuple, strides: tuple, dilation: tuple, out_size: tuple,
           groups: int = 1) -> Any:
    """x (N, H, W, C), already padded -> cols (N·OH·OW, kh·kw·C), one copy (row-major, or
    for C <= 3 the transposed view of a row-major copy).

    With ``groups`` G > 1 the channels split into G blocks of C/G and the result is
    (G, N·OH·OW, kh·kw·C/G): one matrix per group, for one batched matrix product.
    """
    N, C = x.shape[0], x.shape[-1]
    (kh, kw), (OH, OW) = kernel_size, out_size
    v = windows(x, kernel_size, strides, dilation, out_size)     # (N, OH, OW, kh, kw, C)
    if groups == 1:
        if C <= 3 and kh * kw > 1:
            # Few channels (grayscale, RGB): copied row by row, a patch moves C numbers at a
            # time, which is slow. Copying the transpose runs along whole image rows instead
            # (~5x faster for C = 1); its transposed view is the same (N·OH·OW, kh·kw·C)
            # matrix, column-major, and BLAS reads either layout.
            return v.transpose(3, 4, 5, 0, 1, 2).reshape(kh * kw * C, N * OH * OW).T
        # For a 1x1 kernel with stride 1 the view is already contiguous: reshape copies nothing.
        return v.reshape(N * OH * OW, kh * kw * C)
    v = v.reshape(N, OH, OW, kh, kw, groups, C // groups).transpose(5, 0, 1, 2, 3, 4, 6)
    return v.reshape(groups, N * OH * OW, kh * kw * (C // groups))


def _add_windows(dx: Any, part: Any, kernel_size: tuple, strides: tuple, dilation: tuple,
                 out_size: tuple) -> Any:
    """dx[:, i·dh : … : sh, j·dw : … : sw, :] += part(i, j) for every kernel offset (i, j):
    offset (i, j) of the window at output (p, q) is pixel (p·sh + i·dh, q·sw + j·dw)."""
    (kh, kw), (sh, sw), (dh, dw), (OH, OW) = kernel_size, strides, dilation, out_size
    for i in range(kh):
        for j in range(kw):
            dx[:, i * dh:i * dh + sh * (OH - 1) + 1:sh,
               j * dw:j * dw + sw * (OW - 1) + 1:sw, :] += part(i, j)
    return dx


def col2im(cols: Any, padded_shape: tuple, kernel_size: tuple, strides: tuple,
           dilation: tuple, out_size: tuple, groups: int = 1) -> Any:
    """The adjoint of `im2col`: cols (N·OH·OW, kh·kw·C) -> dx (N, H, W, C), H, W padded.

    Each row is one window's gradient; adding window offset (i, j) of every row back onto the
    pixels it was read from is one strided slice per kernel offset (kh·kw additions in all):
    ``dx[:, i·dh : i·dh + sh·OH : sh, j·dw : j·dw + sw·OW : sw, :] += cols[..., i, j, :]``.
    Grouped cols (G, N·OH·OW, kh·kw·C/G) are first put back into channel order.
    """
    (kh, kw), (OH, OW) = kernel_size, out_size
    N, C = padded_shape[0], padded_shape[-1]
    if groups == 1:
        d = cols.reshape(N, OH, OW, kh, kw, C)
    else:
        d = cols.reshape(groups, N, OH, OW, kh, kw, C // groups).transpose(1, 2, 3, 4, 5, 0, 6)
        d = d.reshape(N, OH, OW, kh, kw, C)
    dx = xp.zeros(padded_shape, dtype=cols.dtype)
    return _add_windows(dx, lambda i, j: d[:, :, :, i, j, :], kernel_size, strides, dilation,
                        out_size)


def col2im_matmul(dz: Any, kernel: Any, padded_shape: tuple, strides: tuple, dilation: tuple,
                  out_size: tuple, groups: int = 1) -> Any:
    """col2im(dz · Wᵀ) of a convolution's output gradient dz (N·OH·OW, F) with its kernel
    (kh, kw, C/G, F), computed one kernel offset at a time: offset (i, j) adds dz · W[i, j]ᵀ
    (an (N·OH·OW, C) block) onto the pixels it read. Same result as building the
    (N·OH·OW, kh·kw·C) matrix dz · Wᵀ and calling `col2im`, ~40% faster: the small products
    land contiguous, so the additions run over long rows."""
    kh, kw, cg, F = kernel.shape
    (OH, OW), N, C = out_size, padded_shape[0], padded_shape[-1]
    dz = dz.reshape(-1, groups, F // groups).transpose(1, 0, 2)           # (G, M, F/G)
    w = kernel.reshape(kh, kw, cg, groups, F // groups).transpose(0, 1, 3, 4, 2)  # …, G, F/G, C/G

    def part(i, j):
        block = dz @ w[i, j]                                               # (G, M, C/G)
        return block.transpose(1, 0, 2).reshape(N, OH, OW, C)

    dx = xp.zeros(padded_shape, dtype=dz.dtype)
    return _add_windows(dx, part, (kh, kw), strides, dilation, out_size)
