"""Look inside a network while it trains: per-layer weights, activations and gradients.

``LayerStats`` is an ordinary Keras callback. At the last training batch of every epoch it
reads what the layers already hold (weights, the output cached by forward, the gradients
written by backward) and records a few numbers per layer; nothing is recomputed, so training
is as fast as without it.

    stats = LayerStats()
    model.fit(x, y, epochs=5, callbacks=[stats])
    print(stats)                                 # the last epoch's table
    stats.history['dense']['kernel_grad_norm']   # one value per epoch

Recorded per layer and epoch (keys of ``history[layer_name]``):
  ``<w>_mean``, ``<w>_std``            each weight array w ('kernel', 'bias', ...)
  ``<w>_grad_norm``                    ‖∂L/∂w‖ of the batch
  ``activation_mean``, ``activation_std``   the layer's output on the batch
  ``dead_fraction``                    (ReLU layers) units that output 0 for every sample of
                                       the batch: they get no gradient, so they may stay dead
A first layer whose gradient norm is orders of magnitude below the last one's is the
vanishing-gradient problem (deep sigmoid networks); ReLU with He initialisation avoids it.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .. import activations, backend
from ..callbacks import Callback


def _is_relu(layer: Any) -> bool:
    return getattr(layer, "activation", None) is activations.relu


class LayerStats(Callback):
    """Records per-layer statistics at the last training batch of each epoch.

    ``history``: {layer name: {statistic: [one value per epoch]}}; ``epochs``: the epoch
    numbers recorded (0-based, as Keras counts them). Layers without weights and without a
    cached output are skipped.
    """

    def __init__(self, verbose: int = 0):
        super().__init__()
        self.verbose = verbose
        self.history: dict[str, dict[str, list]] = {}
        self.epochs: list[int] = []
        self._epoch = 0

    def on_train_begin(self, logs=None):
        self.history, self.epochs = {}, []
        # The layers must hold whole-batch outputs, not a slice's (models/slicing.py); fit
        # puts the setting back when it ends.
        self.model.slice_batches = False

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        # Read at the epoch's last batch, before validation overwrites the cached outputs.
        steps = self.params.get("steps")
        if steps is not None and batch != steps - 1 and not self.model.stop_training:
            return
        self.record(self._epoch)

    def record(self, epoch: int) -> None:
        """Read the statistics from the model's layers now (fit calls this for you)."""
        layers = self.model.layers
        for i, layer in enumerate(layers):
            row = self._layer_stats(layer, layers[i + 1] if i + 1 < len(layers) else None)
            if not row:
                continue
            table = self.history.setdefault(layer.name, {})
            for key, value in row.items():
                table.setdefault(key, []).append(value)
        self.epochs.append(epoch)
        if self.verbose:
            print(self.table(-1))

    @staticmethod
    def _layer_stats(layer: Any, following: Any) -> dict:
        row: dict[str, float] = {}
        for name, w in layer._weights.items():
            w = backend.to_numpy(w)
            row[f"{name}_mean"] = float(w.mean())
            row[f"{name}_std"] = float(w.std())
            g = layer.grads.get(name) if name in layer._trainable_names else None
            if g is not None:
                row[f"{name}_grad_norm"] = float(np.linalg.norm(backend.to_numpy(g)))
        # The output: cached by the layer itself (Dense, Activation: .y) or, failing that, the
        # input the next layer cached (.x).
        out = getattr(layer, "y", None)
        if out is None and following is not None:
            out = getattr(following, "x", None)
        if out is not None:
            out = backend.to_numpy(out)
            row["activation_mean"] = float(out.mean())
            row["activation_std"] = float(out.std())
            if _is_relu(layer):
                per_unit = out.reshape(-1, out.shape[-1])
                row["dead_fraction"] = float(np.mean(np.all(per_unit == 0, axis=0)))
        return row

    def last(self, layer_name: str, key: str) -> float:
        """The most recent value of one statistic, e.g. ``last('dense', 'kernel_grad_norm')``."""
        try:
            return self.history[layer_name][key][-1]
        except KeyError:
            known = {n: sorted(t) for n, t in self.history.items()}
            raise KeyError(f"{layer_name!r}/{key!r}: not recorded. Recorded: {known}. Hint: "
                           f"run fit with this callback first.") from None

    def grad_norms(self, weight: str = "kernel", epoch: int = -1) -> dict[str, float]:
        """{layer name: ‖∂L/∂weight‖} at one recorded epoch, first layer first."""
        return {name: t[f"{weight}_grad_norm"][epoch] for name, t in self.history.items()
                if f"{weight}_grad_norm" in t}

    def table(self, epoch: int = -1) -> str:
        """One recorded epoch as text: a line per layer."""
        if not self.epochs:
            return "LayerStats: nothing recorded yet (pass it to fit(callbacks=[...]))."
        lines = [f"Layer statistics at the last batch of epoch {self.epochs[epoch] + 1}",
                 f"  {'layer':<16} {'kernel std':>10} {'‖∂L/∂kernel‖':>13} {'act mean':>9} "
                 f"{'act std':>9} {'dead':>6}"]
        for name, t in self.history.items():
            def get(key, fmt):
                values = t.get(key)
                return format(values[epoch], fmt) if values else "-"
            lines.append(f"  {name:<16} {get('kernel_std', '10.4f'):>10} "
                         f"{get('kernel_grad_norm', '13.3e'):>13} {get('activation_mean', '9.4f'):>9} "
                         f"{get('activation_std', '9.4f'):>9} {get('dead_fraction', '6.1%'):>6}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.table(-1)
