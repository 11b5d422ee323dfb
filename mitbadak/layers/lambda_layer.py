"""Lambda: any NumPy function of the input as a layer, ``layers.Lambda(lambda x: x / 255.0)``.

Forward calls the function. Backward follows the NumPy operations the function ran (see
``traced.py``): in training, when some layer before it needs the gradient, the call is
recorded and walked back; an operation whose derivative is unknown makes backward raise a
clear error instead of returning a wrong gradient.

As in Keras, a Lambda's code is not loaded back from a file: a saved model with a Lambda
layer is refused on load (Keras refuses a Python lambda in safe mode; mitbadak never runs
code from a file). Write a Layer subclass when a model must be saved and reloaded.
"""
from __future__ import annotations

import base64
import inspect
import marshal
import types
from typing import Any, Callable

import numpy

from ..backend import xp
from .layer import Layer
from .traced import trace


class Lambda(Layer):
    """``Lambda(function, output_shape=None, mask=None, arguments=None)``.

    function(x, **arguments) -> y. x is the input array (a list for a list of inputs); y an
    array or a list of arrays. ``output_shape`` (without the batch axis, or a function of the
    input shape) is only needed when running the function on zeros cannot tell it.
    """

    def __init__(self, function: Callable, output_shape: Any = None, mask: Any = None,
                 arguments: dict | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        if not callable(function):
            raise TypeError(f"Lambda {self.name!r}: function must be callable; got "
                            f"{type(function).__name__}. Keras and mitbadak never load a "
                            f"Lambda's code from a file: pass the function itself.")
        self.function = function
        self.arguments = dict(arguments or {})
        self.mask = mask
        self.supports_masking = mask is not None
        self._output_shape = output_shape
        try:
            params = inspect.signature(function).parameters
        except (TypeError, ValueError):
            params = {}
        self._wants_training = "training" in params
        self._wants_mask = "mask" in params
        self.tape = None

    def _check_call_inputs(self, shape, list_input):
        pass      # one array or a list of them: the function gets whichever it was given

    def _call_kwargs(self, training, mask):
        kwargs = dict(self.arguments)
        if self._wants_training:
            kwargs["training"] = training
        if self._wants_mask:
            kwargs["mask"] = mask
        return kwargs

    def forward(self, x, training=False, mask=None):
        kwargs = self._call_kwargs(training, mask)
        self.tape = None
        if training and self.needs_input_grad:
            y, self.tape = trace(self.function, x, **kwargs)
        else:
            y = self.function(x, **kwargs)
        return [xp.asarray(v) for v in y] if isinstance(y, (list, tuple)) else xp.asarray(y)

    def backward(self, dy):
        if not self.needs_input_grad:
            return None
        if self.tape is None:
            raise RuntimeError(f"Lambda {self.name!r}: backward needs a forward pass with "
                               f"training=True first.")
        try:
            return self.tape.backward(dy)
        except ValueError as err:
            raise ValueError(f"Lambda {self.name!r}: cannot compute the gradient of its "
                             f"function: {err}") from err

    def compute_output_shape(self, input_shape):
        if callable(self._output_shape):
            return self._output_shape(input_shape)
        if self._output_shape is not None:
            shape = tuple(self._output_shape)
            if shape and isinstance(shape[0], (list, tuple)):
                first = input_shape[0] if isinstance(input_shape, list) else input_shape
                return [(first[0],) + tuple(s) for s in shape]
            batch = (input_shape[0] if isinstance(input_shape, list) else input_shape)[0]
            return (batch,) + shape
        return self._infer_shape(input_shape)

    def _infer_shape(self, input_shape):
        """Run the function on zeros of the input shape (batch of 2) to learn its output's."""
        def zeros(shape):
            if any(d is None for d in shape[1:]):
                raise NotImplementedError
            return xp.zeros((2,) + tuple(shape[1:]), dtype=self.dtype)
        try:
            x = [zeros(s) for s in input_shape] if isinstance(input_shape, list) \
                else zeros(input_shape)
            with numpy.errstate(all="ignore"):        # zeros may divide by zero
                y = self.function(x, **self._call_kwargs(False, None))
        except Exception as err:
            raise NotImplementedError(
                f"Lambda {self.name!r}: could not infer the shape of the output by running "
                f"the function on zeros of shape {input_shape} ({type(err).__name__}: {err}). "
                f"Pass output_shape=(...) (without the batch axis).") from err
        batch = (input_shape[0] if isinstance(input_shape, list) else input_shape)[0]

        def shape_of(v):
            s = xp.shape(v)
            return (batch,) + tuple(s[1:]) if len(s) and s[0] == 2 else tuple(s)
        return [shape_of(v) for v in y] if isinstance(y, (list, tuple)) else shape_of(y)

    def compute_mask(self, inputs, mask=None):
        return self.mask(inputs, mask) if callable(self.mask) else self.mask

    # ------------------------------------------------------------- config
    def get_config(self):
        """Keras 3's config: a Python lambda as its marshalled code (which Keras loads only
        with safe_mode=False, and mitbadak never), a named function by its name."""
        config = {**super().get_config(), "function": _function_config(self.function)}
        if self._output_shape is not None:
            config["output_shape"] = (_function_config(self._output_shape)
                                      if callable(self._output_shape)
                                      else list(self._output_shape))
        if self.mask is not None:
            config["mask"] = _function_config(self.mask) if callable(self.mask) else self.mask
        config["arguments"] = self.arguments
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for key in ("function", "output_shape", "mask"):
            value = config.get(key)
            if isinstance(value, dict) and "class_name" in value:
                raise ValueError(
                    f"Lambda: refusing to load the {key!r} of a Lambda layer from a config: it "
                    f"is Python code ({value['class_name']}), and mitbadak never runs code "
                    f"from a file (Keras also refuses it in safe mode). Rebuild the layer in "
                    f"code, Lambda(your_function), or write a Layer subclass.")
        return cls(**config)


def _function_config(fn: Callable) -> dict:
    if isinstance(fn, types.LambdaType) and fn.__name__ == "<lambda>":
        code = base64.b64encode(marshal.dumps(fn.__code__)).decode("ascii")
        closure = (None if not fn.__closure__ else
                   [c.cell_contents for c in fn.__closure__])
        return {"class_name": "__lambda__",
                "config": {"code": code, "defaults": fn.__defaults__, "closure": closure}}
    return {"module": getattr(fn, "__module__", None), "class_name": "function",
            "config": getattr(fn, "__name__", repr(fn)),
            "registered_name": getattr(fn, "__name__", repr(fn))}
