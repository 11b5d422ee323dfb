"""PyTorch peer: the same workloads as an idiomatic, efficient hand-written loop.

Tensors are preloaded once; each epoch draws ``torch.randperm``, gathers the shuffled
copy once and then takes contiguous slices; ``zero_grad(set_to_none=True)``;
``nn.CrossEntropyLoss`` on logits (== softmax + sparse categorical cross-entropy);
Keras's default initialisation (glorot/xavier weights, zero biases) and Keras's
default optimizer hyper-parameters (SGD lr=0.01; Adam lr=1e-3, betas=(0.9, 0.999),
eps=1e-7).  Validation accuracy is computed at every epoch end under torch.no_grad()
in batches of the training batch size (as Keras's fit does), inside the epoch timer.
Thread settings are torch's defaults unless --threads is given.
"""
from __future__ import annotations

import math
import time

import numpy as np
import torch
from torch import nn


def _keras_init(model: nn.Module):
    for m in model.modules():
        if isinstance(m, (nn.Linear, nn.Conv2d)):
            if getattr(m, "_glorot_normal", False):
                # Keras glorot_normal: truncated normal (+-2 sd), sd = sqrt(2/(fan_in+fan_out))/0.8796...
                fan_out, fan_in = m.weight.shape[0], m.weight.shape[1]
                std = math.sqrt(2.0 / (fan_in + fan_out)) / 0.87962566103423978
                nn.init.trunc_normal_(m.weight, std=std, a=-2 * std, b=2 * std)
            else:
                nn.init.xavier_uniform_(m.weight)  # == Keras glorot_uniform (also for conv)
            nn.init.zeros_(m.bias)


def _dense(i, o, glorot_normal=False):
    lin = nn.Linear(i, o)
    lin._glorot_normal = glorot_normal
    return lin


def build_model(workload: str):
    if workload in ("mlp_sigmoid_sgd", "mlp_functional"):   # one network in torch's API
        model = nn.Sequential(_dense(784, 100), nn.Sigmoid(), _dense(100, 10))
        make_opt = lambda p: torch.optim.SGD(p, lr=0.01)
    elif workload == "mlp_relu_adam":
        model = nn.Sequential(nn.Flatten(), _dense(784, 100), nn.ReLU(), _dense(100, 10))
        make_opt = None
    elif workload == "mlp_4x512_dropout":
        layers, d = [], 784
        for _ in range(4):
            layers += [_dense(d, 512, glorot_normal=True), nn.ReLU(), nn.Dropout(0.3)]
            d = 512
        layers.append(_dense(512, 10))
        model = nn.Sequential(*layers)
        make_opt = None
    elif workload in ("cnn_b128", "cnn_b32", "cnn_predict"):
        model = nn.Sequential(
            nn.Conv2d(1, 32, 5, padding="same"), nn.ReLU(),
            nn.MaxPool2d(2, 2),
            nn.Conv2d(32, 64, 2, padding="same"), nn.ReLU(),  # even kernel: pads right/bottom like TF
            nn.MaxPool2d(2),
            nn.Dropout(0.25),
            nn.Flatten(),
            _dense(64 * 7 * 7, 1000), nn.ReLU(),
            _dense(1000, 10),
        )
        make_opt = None
    elif workload == "cnn_book_b32":
        model = nn.Sequential(
            nn.Conv2d(1, 32, 3, padding="same"), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding="same"), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(),
            _dense(64 * 7 * 7, 100), nn.ReLU(), nn.Dropout(0.4),
            _dense(100, 10),
        )
        make_opt = None
    else:
        raise KeyError(workload)
    _keras_init(model)
    if make_opt is None:
        make_opt = lambda p: torch.optim.Adam(p, lr=1e-3, betas=(0.9, 0.999), eps=1e-7)
    return model, make_opt(model.parameters())


def _to_tensor(x: np.ndarray) -> torch.Tensor:
    t = torch.from_numpy(x)
    if t.dim() == 4:  # NHWC numpy -> NCHW torch, once, contiguous
        t = t.permute(0, 3, 1, 2).contiguous()
    return t


@torch.no_grad()
def _accuracy(model, x, y, batch_size):
    model.eval()
    correct = 0
    for i in range(0, len(x), batch_size):
        correct += (model(x[i:i + batch_size]).argmax(1) == y[i:i + batch_size]).sum().item()
    return correct / len(x)


def fit(workload, x_tr, y_tr, x_val, y_val, *, epochs, batch_size, seed=0):
    torch.manual_seed(seed)
    model, opt = build_model(workload)
    loss_fn = nn.CrossEntropyLoss()
    X, Y = _to_tensor(x_tr), torch.from_numpy(y_tr)
    XV, YV = _to_tensor(x_val), torch.from_numpy(y_val)
    n = len(X)
    times, val_acc, train_loss = [], [], []
    for _ in range(epochs):
        t0 = time.perf_counter()
        model.train()
        perm = torch.randperm(n)
        Xs, Ys = X[perm], Y[perm]
        total = torch.zeros(())
        for i in range(0, n, batch_size):
            xb, yb = Xs[i:i + batch_size], Ys[i:i + batch_size]
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(xb), yb)
            loss.backward()
            opt.step()
            total += loss.detach() * len(xb)
        acc = _accuracy(model, XV, YV, batch_size)
        times.append(time.perf_counter() - t0)
        val_acc.append(acc)
        train_loss.append(float(total) / n)
    return dict(epoch_times=times, val_acc=val_acc, train_loss=train_loss,
                timer_includes_validation=True,
                n_params=sum(p.numel() for p in model.parameters()))


def predict_throughput(x_test, *, batch_size, repeats, seed=0):
    torch.manual_seed(seed)
    model, _ = build_model("cnn_predict")
    model.eval()
    X = _to_tensor(x_test)

    def run(x):
        outs = []
        with torch.no_grad():
            for i in range(0, len(x), batch_size):
                outs.append(torch.softmax(model(x[i:i + batch_size]), 1))
        return torch.cat(outs).numpy()

    run(X[:10 * batch_size])
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = run(X)
        times.append(time.perf_counter() - t0)
    assert out.shape == (len(x_test), 10)
    return dict(pass_times=times, n_images=len(x_test))


def xor_step_times(*, warmup, steps, seed=0):
    from .workloads import XOR_X, XOR_Y
    torch.manual_seed(seed)
    model = nn.Sequential(_dense(3, 6), nn.Sigmoid(), _dense(6, 1), nn.Sigmoid())
    _keras_init(model)
    opt = torch.optim.SGD(model.parameters(), lr=0.5)
    loss_fn = nn.BCELoss()
    x, y = torch.from_numpy(XOR_X), torch.from_numpy(XOR_Y)

    def step():
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss.item()  # train_on_batch also hands back the loss as a Python number

    for _ in range(warmup):
        step()
    times = np.empty(steps)
    pc = time.perf_counter
    for i in range(steps):
        t0 = pc()
        step()
        times[i] = pc() - t0
    return dict(step_times=times.tolist(), final_loss=float(step()))
