"""A tiny recorded computational graph, to watch backpropagation one node at a time.

    g = Graph()
    apple, apple_num, tax = g.input(100, "apple"), g.input(2, "apple_num"), g.input(1.1, "tax")
    apple_price = g.mul(apple, apple_num, name="apple_price")
    price = g.mul(apple_price, tax, name="price")
    g.forward()        # 220.0: every node's forward, in the order they were added
    g.backward(1.0)    # {'apple': 2.2, 'apple_num': 110.0, 'tax': 200.0, ...}: in reverse order
    print(g)           # each node: inputs, output, local derivatives, chain-rule products

Each node is a ``MulLayer`` or ``AddLayer``. Backward walks the nodes from last to first;
a node hands each input ``upstream × local derivative`` and an input used by several
nodes adds up what it receives (the chain rule's sum over paths).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .nodes import AddLayer, MulLayer


class Value:
    """A number (or array) in the graph: an input you set, or a node's output.

    ``value`` is set by ``Graph.forward``; ``grad`` is ∂(final output)/∂(this value), set
    by ``Graph.backward``. After changing an input's ``value``, call ``forward()`` again.
    """

    def __init__(self, value: Any, name: str) -> None:
        self.value, self.name, self.grad = value, name, None

    def __repr__(self) -> str:
        return f"Value({self.name}={_fmt(self.value)}, grad={_fmt(self.grad)})"


class Node:
    """One recorded operation: ``output.value = layer.forward(a.value, b.value)``."""

    def __init__(self, layer: Any, symbol: str, inputs: tuple[Value, Value], output: Value) -> None:
        self.layer, self.symbol, self.inputs, self.output = layer, symbol, inputs, output
        self.local = None        # (∂out/∂a, ∂out/∂b): backward with upstream 1
        self.input_grads = None  # (upstream·∂out/∂a, upstream·∂out/∂b) from the last backward


class Graph:
    """Records ``mul``/``add`` nodes in order; ``forward``, ``backward``, ``report`` over them."""

    def __init__(self) -> None:
        self.values: dict[str, Value] = {}   # every input and node output, by name
        self.nodes: list[Node] = []          # in the order added, which is a valid forward order

    def input(self, value: Any, name: str | None = None) -> Value:
        """A leaf the learner sets, e.g. ``g.input(100, 'apple')``."""
        v = Value(value, self._new_name(name, "x"))
        self.values[v.name] = v
        return v

    def mul(self, a: Any, b: Any, name: str | None = None) -> Value:
        """A node a × b; a and b are Values of this graph or plain numbers (made inputs)."""
        return self._record(MulLayer(), "×", a, b, self._new_name(name, "mul"))

    def add(self, a: Any, b: Any, name: str | None = None) -> Value:
        """A node a + b; a and b are Values of this graph or plain numbers (made inputs)."""
        return self._record(AddLayer(), "+", a, b, self._new_name(name, "add"))

    def forward(self) -> Any:
        """Recompute every node from the current inputs; return the last node's output."""
        if not self.nodes:
            raise ValueError("Graph.forward: expected at least one node; got an empty graph. "
                             "Hint: add nodes with g.mul(a, b) or g.add(a, b) first.")
        for node in self.nodes:
            a, b = node.inputs
            node.output.value = node.layer.forward(a.value, b.value)
        return self.nodes[-1].output.value

    def backward(self, dout: Any = 1.0) -> dict[str, Any]:
        """Backpropagate ``dout`` from the last node; return {name: gradient} for every value."""
        if not self.nodes:
            self.forward()  # raises the empty-graph error
        for v in self.values.values():
            v.grad = 0.0 if np.ndim(v.value) == 0 else np.zeros(np.shape(v.value))
        self.nodes[-1].output.grad = dout
        for node in reversed(self.nodes):
            node.local = node.layer.backward(1.0)
            node.input_grads = node.layer.backward(node.output.grad)
            for v, g in zip(node.inputs, node.input_grads):
                v.grad = v.grad + g  # not +=: never write into an array someone else holds
        return {name: v.grad for name, v in self.values.items()}

    def __getitem__(self, name: str) -> Value:
        return self.values[name]

    def report(self) -> str:
        """Every input and node with values, local derivatives and gradients, as text."""
        return _report(self)

    __str__ = report

    def _record(self, layer: Any, symbol: str, a: Any, b: Any, name: str) -> Value:
        a, b = self._as_value(a, "a"), self._as_value(b, "b")
        out = Value(layer.forward(a.value, b.value), name)
        self.values[out.name] = out
        self.nodes.append(Node(layer, symbol, (a, b), out))
        return out

    def _as_value(self, x: Any, arg: str) -> Value:
        if isinstance(x, Value):
            if self.values.get(x.name) is not x:
                raise ValueError(f"{arg}: expected a Value made by this graph; got {x!r} from another "
                                 f"graph. Hint: build the whole expression on one Graph.")
            return x
        if isinstance(x, (str, bytes)) or np.asarray(x).dtype.kind not in "biuf":
            raise TypeError(f"{arg}: expected a number, an array of numbers or a Value; got "
                            f"{type(x).__name__}. Hint: g.input(100, 'apple') makes a named input.")
        return self.input(x)

    def _new_name(self, name: str | None, prefix: str) -> str:
        if name is None:
            k = 1
            while f"{prefix}{k}" in self.values:
                k += 1
            return f"{prefix}{k}"
        if not isinstance(name, str) or not name or name in self.values:
            used = " (already used)" if isinstance(name, str) and name in self.values else ""
            raise ValueError(f"name: expected a new, non-empty string; got {name!r}{used}. "
                             f"Hint: every value needs its own name.")
        return name


def _fmt(v: Any) -> str:
    """Numbers to 6 significant digits (220.00000000000003 -> '220'); arrays compactly."""
    if v is None:
        return "?"
    if np.ndim(v) == 0:
        return f"{float(v):.6g}"
    return np.array2string(np.asarray(v, dtype=np.float64), precision=4, separator=", ")


def _report(g: Graph) -> str:
    final = g.nodes[-1].output.name if g.nodes else "L"
    inputs = [v for v in g.values.values() if not any(n.output is v for n in g.nodes)]
    lines = [f"Graph: {len(inputs)} inputs, {len(g.nodes)} nodes"]
    for v in inputs:
        lines.append(f"  input {v.name} = {_fmt(v.value)},  ∂{final}/∂{v.name} = {_fmt(v.grad)}")
    for n in g.nodes:
        (a, b), out = n.inputs, n.output
        lines.append(f"  {out.name} = {a.name} {n.symbol} {b.name} = "
                     f"{_fmt(a.value)} {n.symbol} {_fmt(b.value)} = {_fmt(out.value)}")
        if n.local is None:
            lines.append("      (call backward() to see the derivatives)")
            continue
        lines.append("      local  " + ",  ".join(
            f"∂{out.name}/∂{v.name} = {_fmt(d)}" for v, d in zip(n.inputs, n.local)))
        lines.append("      chain  " + ",  ".join(
            f"∂{final}/∂{v.name} += {_fmt(out.grad)} × {_fmt(d)} = {_fmt(gr)}"
            for v, d, gr in zip(n.inputs, n.local, n.input_grads)))
    return "\n".join(lines)
