"""From the nodes of layer calls to the ordered list of steps a model walks.

``keras.Model(inputs, outputs)`` starts at the outputs and follows every tensor back to the
layer call (node) that made it, until it reaches the inputs. Sorted so that every node comes
after the nodes that feed it, those calls are the model's forward pass; read in reverse,
its backward pass. Each tensor gets a numbered slot: a step reads its inputs from slots and
writes its outputs to slots, so the walk is a loop over a list, as in the notes'
computational graph.
"""
from __future__ import annotations

from typing import Any

from ..layers.node import KerasTensor, Node


class Step:
    """One layer call of a walk: ``outs = layer.forward(ins)``.

    ``ins``/``outs`` are slot numbers; ``list_in``: the layer takes a list; ``list_out``: it
    returns one; ``training``: a value fixed at call time (``base(x, training=False)``) or
    None. The backward fields are set by ``Model._prepare_backward``: ``needs_dx`` (someone
    upstream has weights to train), ``skip`` (nothing here or upstream to train), ``shared``
    (the layer has other steps: its state is kept per step), ``fused`` (dy is already dL/dz).
    ``activity``: the layer's activity regularizer, whose penalty on the output is added to
    the loss in training (and its gradient to dy).
    """

    __slots__ = ("layer", "ins", "outs", "list_in", "list_out", "training", "state",
                 "needs_dx", "skip", "shared", "fused", "activity")

    def __init__(self, layer: Any, ins: list[int], outs: list[int], list_in: bool,
                 list_out: bool, training: bool | None = None):
        self.layer, self.ins, self.outs = layer, ins, outs
        self.list_in, self.list_out, self.training = list_in, list_out, training
        self.state = None
        self.needs_dx, self.skip, self.shared, self.fused = True, False, False, False
        # The layer's activity regularizer (an L1/L2 penalty on its output), or None.
        self.activity = getattr(layer, "activity_regularizer", None)

    def __repr__(self) -> str:
        return f"<Step {self.layer.name}: {self.ins} -> {self.outs}>"


def map_graph(inputs: list[KerasTensor], outputs: list[KerasTensor]) -> tuple[list, list]:
    """(nodes from inputs to outputs, layers in Keras's order) of the graph between them.

    Keras's layer order: by depth (the layers nearest the inputs first), and within one
    depth in the order a depth-first search from the outputs first meets them.
    """
    ordered: list[Node] = []        # depth-first post-order: every node after its parents
    first_seen: dict[int, int] = {}
    done: set[int] = set()
    in_progress: set[int] = set()
    input_ids = {id(t) for t in inputs}

    def visit(tensor: KerasTensor) -> None:
        if tensor._keras_history is None:
            raise ValueError(f"{tensor!r} was not made by a layer call or keras.Input, so it "
                             f"cannot be part of a model.")
        layer, index, _ = tensor._keras_history
        node = layer._inbound_nodes[index]
        if id(node) in done:
            return
        if id(tensor) in input_ids and not node.is_input:
            done.add(id(node))          # an intermediate tensor given as a model input
            return
        if id(node) in in_progress:
            raise ValueError(f"The graph has a cycle through layer {layer.name!r}.")
        first_seen.setdefault(id(layer), len(first_seen))
        in_progress.add(id(node))
        for t in node.input_tensors:
            visit(t)
        in_progress.discard(id(node))
        done.add(id(node))
        ordered.append(node)

    for t in outputs:
        visit(t)
    # Depths: a node's depth is 1 + the largest depth of the nodes it feeds (outputs: 0).
    depth: dict[int, int] = {}
    layer_depth: dict[int, int] = {}
    layers_by_id: dict[int, Any] = {}
    in_graph = {id(n) for n in ordered}
    for node in reversed(ordered):
        d = max(depth.setdefault(id(node), 0), layer_depth.get(id(node.layer), 0))
        depth[id(node)] = d
        layer_depth[id(node.layer)] = d
        layers_by_id[id(node.layer)] = node.layer
        for parent in node.parent_nodes:
            if id(parent) in in_graph:
                depth[id(parent)] = max(depth.get(id(parent), 0), d + 1)
    for t in inputs:                 # an Input that feeds nothing still is a model input
        layer = t._keras_history[0]
        if id(layer) not in layer_depth and layer._inbound_nodes[t._keras_history[1]].is_input:
            layer_depth[id(layer)], layers_by_id[id(layer)] = 0, layer
            first_seen.setdefault(id(layer), -1)
    layers = sorted(layers_by_id.values(),
                    key=lambda l: (-layer_depth[id(l)], first_seen[id(l)]))
    _check_computable(inputs, ordered)
    return ordered, layers


def _check_computable(inputs: list[KerasTensor], nodes: list[Node]) -> None:
    """Every node's inputs must be reachable from the model's inputs."""
    known = {id(t) for t in inputs}
    names = [t.name for t in inputs]
    for node in nodes:
        if node.is_input:
            if id(node.output_tensors[0]) not in known:
                raise ValueError(
                    f"Graph disconnected: the model's outputs depend on the input "
                    f"{node.output_tensors[0].name!r} (InputLayer {node.layer.name!r}), which "
                    f"is not among the inputs given to keras.Model ({names}). Pass it in "
                    f"`inputs`, e.g. keras.Model(inputs=[...], outputs=...).")
            continue
        for t in node.input_tensors:
            if id(t) not in known:
                raise ValueError(
                    f"Graph disconnected: cannot reach tensor {t.name!r} (input of layer "
                    f"{node.layer.name!r}) from the model's inputs {names}.")
        known.update(id(t) for t in node.output_tensors)


def compile_steps(inputs: list[KerasTensor], outputs: list[KerasTensor],
                  nodes: list[Node]) -> tuple[list[Step], int, list[int], list[int]]:
    """(steps, number of slots, input slots, output slots) for the nodes of a graph. The
    InputLayers' nodes are not steps: a model input is written into its slot directly."""
    slot: dict[int, int] = {}

    def slot_of(t: KerasTensor) -> int:
        return slot.setdefault(id(t), len(slot))

    input_slots = [slot_of(t) for t in inputs]
    steps = []
    for node in nodes:
        if node.is_input:
            continue
        training = node.arguments.get("training")
        steps.append(Step(node.layer, [slot_of(t) for t in node.input_tensors],
                          [slot_of(t) for t in node.output_tensors], node.list_input,
                          len(node.output_tensors) > 1, training))
    output_slots = [slot_of(t) for t in outputs]
    return steps, len(slot), input_slots, output_slots



def add_activity_penalty(step: Step, y: Any) -> None:
    """Training with an activity regularizer: its penalty on this output, per sample."""
    step.layer._activity_out = y
    step.layer._activity_loss = step.activity(y) / len(y)


def activity_gradient(step: Step, dy: Any) -> Any:
    return dy + step.activity.gradient(step.layer._activity_out) / len(dy)
