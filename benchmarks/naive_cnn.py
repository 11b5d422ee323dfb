"""A naive, textbook NumPy CNN -- the "Deep Learning from Scratch" style -- as a peer.

Layers are classes with forward/backward; convolution and pooling go through
``im2col`` (a Python loop over the filter offsets, the book's version) in the forward
pass, and through ``col2im`` implemented with ``np.add.at`` (scatter-add through
fancy-index arrays, the CS231n version) in the backward pass.  Layout is NCHW like the
book.  Same architecture as the ``cnn_*`` workloads, Keras's initialisation (glorot
uniform, zero bias), float32, Adam with the book's update rule (lr=1e-3, beta1=0.9,
beta2=0.999, eps=1e-7).  The first convolution's input gradient is computed too, as the
book's network does (it back-propagates through every layer).

Because a full epoch is slow, the runner times only a limited number of training steps
and validation batches and extrapolates them to an epoch (see ``fit``).
"""
from __future__ import annotations

import math
import time
from collections import OrderedDict

import numpy as np

DT = np.float32


# ----------------------------------------------------------------- im2col / col2im
def _out_size(size, k, stride, pad_lo, pad_hi):
    return (size + pad_lo + pad_hi - k) // stride + 1


def im2col(x, fh, fw, stride=1, pad=(0, 0, 0, 0)):
    """(N, C, H, W) -> (N*out_h*out_w, C*fh*fw). pad = (top, bottom, left, right)."""
    N, C, H, W = x.shape
    pt, pb, pl, pr = pad
    out_h = _out_size(H, fh, stride, pt, pb)
    out_w = _out_size(W, fw, stride, pl, pr)
    img = np.pad(x, [(0, 0), (0, 0), (pt, pb), (pl, pr)], "constant")
    col = np.zeros((N, C, fh, fw, out_h, out_w), dtype=x.dtype)
    for y in range(fh):
        y_max = y + stride * out_h
        for xx in range(fw):
            x_max = xx + stride * out_w
            col[:, :, y, xx, :, :] = img[:, :, y:y_max:stride, xx:x_max:stride]
    return col.transpose(0, 4, 5, 1, 2, 3).reshape(N * out_h * out_w, -1)


_INDEX_CACHE: dict = {}


def _col_indices(C, H, W, fh, fw, stride, pad):
    key = (C, H, W, fh, fw, stride, pad)
    if key not in _INDEX_CACHE:
        pt, pb, pl, pr = pad
        out_h = _out_size(H, fh, stride, pt, pb)
        out_w = _out_size(W, fw, stride, pl, pr)
        # row order of a column entry is (c, ky, kx), matching im2col above
        i0 = np.tile(np.repeat(np.arange(fh), fw), C)
        i1 = stride * np.repeat(np.arange(out_h), out_w)
        j0 = np.tile(np.arange(fw), fh * C)
        j1 = stride * np.tile(np.arange(out_w), out_h)
        i = i0.reshape(-1, 1) + i1.reshape(1, -1)
        j = j0.reshape(-1, 1) + j1.reshape(1, -1)
        k = np.repeat(np.arange(C), fh * fw).reshape(-1, 1)
        _INDEX_CACHE[key] = (k, i, j, out_h, out_w)
    return _INDEX_CACHE[key]


def col2im(col, input_shape, fh, fw, stride=1, pad=(0, 0, 0, 0)):
    """Inverse scatter of im2col: (N*out_h*out_w, C*fh*fw) -> (N, C, H, W), with np.add.at."""
    N, C, H, W = input_shape
    pt, pb, pl, pr = pad
    k, i, j, out_h, out_w = _col_indices(C, H, W, fh, fw, stride, pad)
    cols = col.reshape(N, out_h * out_w, C * fh * fw).transpose(0, 2, 1)
    img = np.zeros((N, C, H + pt + pb, W + pl + pr), dtype=col.dtype)
    np.add.at(img, (slice(None), k, i, j), cols)
    return img[:, :, pt:pt + H, pl:pl + W]


# ----------------------------------------------------------------- layers
def _same_pad(k):
    total = k - 1  # stride 1: TF/Keras puts the odd extra pixel at the bottom/right
    return (total // 2, total - total // 2, total // 2, total - total // 2)


def _glorot_uniform(rng, shape, fan_in, fan_out):
    lim = math.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-lim, lim, size=shape).astype(DT)


class Convolution:
    def __init__(self, W, b, stride=1, pad=(0, 0, 0, 0)):
        self.W, self.b, self.stride, self.pad = W, b, stride, pad
        self.x = self.col = self.col_W = None
        self.dW = self.db = None

    def forward(self, x, train=True):
        FN, C, FH, FW = self.W.shape
        N, _, H, W = x.shape
        out_h = _out_size(H, FH, self.stride, self.pad[0], self.pad[1])
        out_w = _out_size(W, FW, self.stride, self.pad[2], self.pad[3])
        col = im2col(x, FH, FW, self.stride, self.pad)
        col_W = self.W.reshape(FN, -1).T
        out = col @ col_W + self.b
        out = out.reshape(N, out_h, out_w, -1).transpose(0, 3, 1, 2)
        self.x, self.col, self.col_W = x, col, col_W
        return out

    def backward(self, dout):
        FN, C, FH, FW = self.W.shape
        dout = dout.transpose(0, 2, 3, 1).reshape(-1, FN)
        self.db = np.sum(dout, axis=0)
        self.dW = (self.col.T @ dout).transpose(1, 0).reshape(FN, C, FH, FW)
        dcol = dout @ self.col_W.T
        return col2im(dcol, self.x.shape, FH, FW, self.stride, self.pad)


class Pooling:
    def __init__(self, pool_h, pool_w, stride=2, pad=(0, 0, 0, 0)):
        self.pool_h, self.pool_w, self.stride, self.pad = pool_h, pool_w, stride, pad
        self.x = self.arg_max = None

    def forward(self, x, train=True):
        N, C, H, W = x.shape
        out_h = _out_size(H, self.pool_h, self.stride, self.pad[0], self.pad[1])
        out_w = _out_size(W, self.pool_w, self.stride, self.pad[2], self.pad[3])
        col = im2col(x, self.pool_h, self.pool_w, self.stride, self.pad)
        col = col.reshape(-1, self.pool_h * self.pool_w)
        self.arg_max = np.argmax(col, axis=1)
        out = np.max(col, axis=1)
        self.x = x
        return out.reshape(N, out_h, out_w, C).transpose(0, 3, 1, 2)

    def backward(self, dout):
        dout = dout.transpose(0, 2, 3, 1)
        pool_size = self.pool_h * self.pool_w
        dmax = np.zeros((dout.size, pool_size), dtype=dout.dtype)
        dmax[np.arange(self.arg_max.size), self.arg_max.flatten()] = dout.flatten()
        dmax = dmax.reshape(dout.shape + (pool_size,))
        dcol = dmax.reshape(dmax.shape[0] * dmax.shape[1] * dmax.shape[2], -1)
        return col2im(dcol, self.x.shape, self.pool_h, self.pool_w, self.stride, self.pad)


class Relu:
    def __init__(self):
        self.mask = None

    def forward(self, x, train=True):
        self.mask = x <= 0
        out = x.copy()
        out[self.mask] = 0
        return out

    def backward(self, dout):
        dout = dout.copy()
        dout[self.mask] = 0
        return dout


class Dropout:
    """Inverted dropout (Keras semantics: scale at train time)."""

    def __init__(self, rate, rng):
        self.rate, self.rng, self.mask = rate, rng, None

    def forward(self, x, train=True):
        if train:
            self.mask = (self.rng.random(x.shape, dtype=DT) > self.rate) / DT(1.0 - self.rate)
            return x * self.mask
        return x

    def backward(self, dout):
        return dout * self.mask


class Affine:
    """Fully connected layer; flattens its input like the book's Affine."""

    def __init__(self, W, b):
        self.W, self.b = W, b
        self.x = self.original_x_shape = None
        self.dW = self.db = None

    def forward(self, x, train=True):
        self.original_x_shape = x.shape
        x = x.reshape(x.shape[0], -1)
        self.x = x
        return x @ self.W + self.b

    def backward(self, dout):
        dx = dout @ self.W.T
        self.dW = self.x.T @ dout
        self.db = np.sum(dout, axis=0)
        return dx.reshape(*self.original_x_shape)


def softmax(x):
    x = x - x.max(axis=1, keepdims=True)
    e = np.exp(x)
    return e / e.sum(axis=1, keepdims=True)


class SoftmaxWithLoss:
    def __init__(self):
        self.y = self.t = None

    def forward(self, x, t):
        self.t = t
        self.y = softmax(x)
        n = x.shape[0]
        return -np.mean(np.log(self.y[np.arange(n), t] + 1e-7))

    def backward(self):
        n = self.t.shape[0]
        dx = self.y.copy()
        dx[np.arange(n), self.t] -= 1
        return dx / n


class Adam:
    """The book's Adam (bias correction folded into the step size)."""

    def __init__(self, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-7):
        self.lr, self.beta1, self.beta2, self.eps = lr, beta1, beta2, eps
        self.iter = 0
        self.m = self.v = None

    def update(self, params, grads):
        if self.m is None:
            self.m = {k: np.zeros_like(v) for k, v in params.items()}
            self.v = {k: np.zeros_like(v) for k, v in params.items()}
        self.iter += 1
        lr_t = self.lr * np.sqrt(1.0 - self.beta2 ** self.iter) / (1.0 - self.beta1 ** self.iter)
        for key in params:
            self.m[key] += (1 - self.beta1) * (grads[key] - self.m[key])
            self.v[key] += (1 - self.beta2) * (grads[key] ** 2 - self.v[key])
            params[key] -= DT(lr_t) * self.m[key] / (np.sqrt(self.v[key]) + DT(self.eps))


class NaiveConvNet:
    """conv(32,5x5,same)-relu-pool2 - conv(64,2x2,same)-relu-pool2 - dropout(.25) -
    flatten - affine(1000)-relu - affine(10) - softmax."""

    def __init__(self, seed=0):
        rng = np.random.default_rng(seed)
        p = self.params = {}
        p["W1"] = _glorot_uniform(rng, (32, 1, 5, 5), 1 * 25, 32 * 25)
        p["b1"] = np.zeros(32, DT)
        p["W2"] = _glorot_uniform(rng, (64, 32, 2, 2), 32 * 4, 64 * 4)
        p["b2"] = np.zeros(64, DT)
        p["W3"] = _glorot_uniform(rng, (64 * 7 * 7, 1000), 64 * 7 * 7, 1000)
        p["b3"] = np.zeros(1000, DT)
        p["W4"] = _glorot_uniform(rng, (1000, 10), 1000, 10)
        p["b4"] = np.zeros(10, DT)
        L = self.layers = OrderedDict()
        L["Conv1"] = Convolution(p["W1"], p["b1"], 1, _same_pad(5))
        L["Relu1"] = Relu()
        L["Pool1"] = Pooling(2, 2, 2)
        L["Conv2"] = Convolution(p["W2"], p["b2"], 1, _same_pad(2))
        L["Relu2"] = Relu()
        L["Pool2"] = Pooling(2, 2, 2)
        L["Dropout"] = Dropout(0.25, rng)
        L["Affine1"] = Affine(p["W3"], p["b3"])
        L["Relu3"] = Relu()
        L["Affine2"] = Affine(p["W4"], p["b4"])
        self.last_layer = SoftmaxWithLoss()

    def predict(self, x, train=False):
        for layer in self.layers.values():
            x = layer.forward(x, train)
        return x

    def loss(self, x, t):
        return self.last_layer.forward(self.predict(x, train=True), t)

    def gradient(self, x, t):
        loss = self.loss(x, t)
        dout = self.last_layer.backward()
        for layer in reversed(list(self.layers.values())):
            dout = layer.backward(dout)
        grads = {}
        for i, name in enumerate(("Conv1", "Conv2", "Affine1", "Affine2"), start=1):
            grads[f"W{i}"] = self.layers[name].dW
            grads[f"b{i}"] = self.layers[name].db
        return loss, grads

    def accuracy(self, x, t, batch_size):
        correct = 0
        for i in range(0, len(x), batch_size):
            correct += int((self.predict(x[i:i + batch_size]).argmax(1) == t[i:i + batch_size]).sum())
        return correct / len(x)


def _nchw(x):
    return np.ascontiguousarray(x.transpose(0, 3, 1, 2)) if x.ndim == 4 else x


def fit(x_tr, y_tr, x_val, y_val, *, epochs, batch_size, max_steps, val_batches, seed=0):
    """Time ``max_steps`` training steps (after one warm-up step) and ``val_batches``
    validation batches, and extrapolate to one epoch:
        epoch_s = mean_step_s * ceil(n_train / bs) + mean_val_batch_s * ceil(n_val / bs).
    ``epochs`` is ignored (the estimate is per epoch)."""
    X, XV = _nchw(x_tr), _nchw(x_val)
    net = NaiveConvNet(seed)
    opt = Adam()
    rng = np.random.default_rng(seed + 1)
    n = len(X)
    steps_per_epoch = math.ceil(n / batch_size)
    val_steps = math.ceil(len(XV) / batch_size)
    perm = rng.permutation(n)
    starts = [i * batch_size for i in range(steps_per_epoch)]
    n_steps = min(max_steps + 1, steps_per_epoch)
    step_times, losses = [], []
    for s in range(n_steps):
        idx = np.sort(perm[starts[s]:starts[s] + batch_size])
        t0 = time.perf_counter()
        loss, grads = net.gradient(X[idx], y_tr[idx])
        opt.update(net.params, grads)
        step_times.append(time.perf_counter() - t0)
        losses.append(float(loss))
    timed = step_times[1:] or step_times
    nv = min(val_batches, val_steps)
    t0 = time.perf_counter()
    acc = net.accuracy(XV[:nv * batch_size], y_val[:nv * batch_size], batch_size)
    val_batch_s = (time.perf_counter() - t0) / max(nv, 1)
    epoch_s = float(np.mean(timed)) * steps_per_epoch + val_batch_s * val_steps
    return dict(epoch_times=[epoch_s], extrapolated=True,
                measured_train_steps=len(timed), steps_per_epoch=steps_per_epoch,
                mean_step_s=float(np.mean(timed)), median_step_s=float(np.median(timed)),
                measured_val_batches=nv, val_batch_s=val_batch_s,
                partial_val_acc=acc, partial_train_loss=losses,
                timer_includes_validation=True,
                n_params=int(sum(v.size for v in net.params.values())))


def predict_throughput(x_test, *, batch_size, repeats, seed=0):
    X = _nchw(x_test)
    net = NaiveConvNet(seed)

    def run(x):
        return np.concatenate([softmax(net.predict(x[i:i + batch_size]))
                               for i in range(0, len(x), batch_size)])

    run(X[:10 * batch_size])
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = run(X)
        times.append(time.perf_counter() - t0)
    assert out.shape == (len(x_test), 10)
    return dict(pass_times=times, n_images=len(x_test))
