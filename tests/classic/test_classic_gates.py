"""Logic gates: truth tables from Boolean algebra, vectorised inputs, XOR's impossibility."""
import numpy as np
import pytest

from mitbadak.classic import AND, NAND, NOR, OR, XOR, perceptron_cannot_learn_xor, truth_table

PAIRS = [(0, 0), (0, 1), (1, 0), (1, 1)]
# Expected outputs written from the Boolean definitions, not from the gate code.
EXPECTED = {
    AND: lambda a, b: int(a and b),
    OR: lambda a, b: int(a or b),
    NAND: lambda a, b: int(not (a and b)),
    NOR: lambda a, b: int(not (a or b)),
    XOR: lambda a, b: int(a != b),
}


@pytest.mark.parametrize("gate", list(EXPECTED), ids=lambda g: g.__name__)
def test_scalar_truth_tables(gate):
    for a, b in PAIRS:
        out = gate(a, b)
        assert out == EXPECTED[gate](a, b) and isinstance(out, int)


@pytest.mark.parametrize("gate", list(EXPECTED), ids=lambda g: g.__name__)
def test_vectorised_matches_scalar(gate):
    x1 = np.array([a for a, _ in PAIRS])
    x2 = np.array([b for _, b in PAIRS])
    out = gate(x1, x2)
    assert out.shape == (4,)
    assert out.tolist() == [EXPECTED[gate](a, b) for a, b in PAIRS]


def test_textbook_weights_margin():
    # AND(1,1): 0.5 + 0.5 − 0.7 = 0.3 > 0; AND(0,1): 0.5 − 0.7 = −0.2 <= 0
    assert AND(1, 1) == 1 and AND(0, 1) == 0
    # Real-valued inputs go through the same weighted sum: OR(0.3, 0.1) = step(0.2 − 0.2) = 0.
    assert OR(0.3, 0.1) == 0 and OR(0.5, 0.1) == 1


def test_truth_table_rows_and_print(capsys):
    rows = truth_table(XOR, show=True)
    assert rows == [(0, 0, 0), (0, 1, 1), (1, 0, 1), (1, 1, 0)]
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "x1 x2 | XOR" and len(out) == 5
    assert truth_table(NAND) == [(a, b, int(not (a and b))) for a, b in PAIRS]


def test_truth_table_rejects_non_callable():
    with pytest.raises(TypeError, match="gate"):
        truth_table(AND(0, 1))


def test_mismatched_array_shapes():
    with pytest.raises(ValueError, match="x1, x2"):
        AND(np.zeros(3), np.zeros(2))


def test_single_perceptron_never_learns_xor():
    # An epoch without mistakes would need a line separating {(0,1),(1,0)} from
    # {(0,0),(1,1)}; the midpoint (.5,.5) of both pairs would then lie strictly on
    # both sides. So every epoch has at least one mistake.
    history = perceptron_cannot_learn_xor(epochs=60)
    assert len(history) == 60
    assert min(history) >= 1
