"""Errors raised by the computational-graph nodes: each names the argument and gives a hint."""


class ShapeError(ValueError):
    """An array has the wrong number of dimensions or a size that does not fit."""


class ForwardNotCalledError(ValueError, RuntimeError):
    """``backward`` was called before ``forward`` stored what backward needs."""

    def __init__(self, node: str) -> None:
        super().__init__(f"{node}.backward: expected forward() to have run first; got a node "
                         f"with no stored input. Hint: call forward(...) and then backward(dout).")
