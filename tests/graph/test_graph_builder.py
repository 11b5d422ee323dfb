"""The recorded Graph: the notes' shopping examples, gradients by hand, the report, errors."""
import numpy as np
import pytest

from mitbadak.graph import Graph, Value


def close(a, b):
    return abs(a - b) <= 1e-12 * max(1.0, abs(b))


def apple_graph():
    g = Graph()
    apple, apple_num, tax = g.input(100, "apple"), g.input(2, "apple_num"), g.input(1.1, "tax")
    apple_price = g.mul(apple, apple_num, name="apple_price")
    g.mul(apple_price, tax, name="price")
    return g


def test_one_item_forward_and_backward():
    """price = (apple · apple_num) · tax.
    ∂price/∂apple = apple_num · tax = 2 · 1.1 = 2.2
    ∂price/∂apple_num = apple · tax = 100 · 1.1 = 110
    ∂price/∂tax = apple · apple_num = 200
    ∂price/∂apple_price = tax = 1.1
    """
    g = apple_graph()
    assert close(g.forward(), 100 * 2 * 1.1)
    grads = g.backward(1.0)
    assert close(grads["apple"], 2.2)
    assert close(grads["apple_num"], 110.0)
    assert close(grads["tax"], 200.0)
    assert close(grads["apple_price"], 1.1)
    assert grads["price"] == 1.0
    assert close(g["apple"].grad, 2.2)  # the same numbers live on the Values


def test_two_items():
    """price = (apple·apple_num + orange·orange_num) · tax = (200 + 450) · 1.1 = 715.
    The add node passes its upstream gradient (tax = 1.1) to both branches unchanged, so
    dapple = 1.1·2 = 2.2, dapple_num = 1.1·100 = 110, dorange = 1.1·3 = 3.3,
    dorange_num = 1.1·150 = 165, dtax = 200 + 450 = 650.
    """
    g = Graph()
    apple, apple_num = g.input(100, "apple"), g.input(2, "apple_num")
    orange, orange_num = g.input(150, "orange"), g.input(3, "orange_num")
    tax = g.input(1.1, "tax")
    apple_price = g.mul(apple, apple_num, name="apple_price")
    orange_price = g.mul(orange, orange_num, name="orange_price")
    all_price = g.add(apple_price, orange_price, name="all_price")
    g.mul(all_price, tax, name="price")
    assert close(g.forward(), (100 * 2 + 150 * 3) * 1.1)
    grads = g.backward(1.0)
    expected = {"apple": 2.2, "apple_num": 110, "orange": 3.3, "orange_num": 165, "tax": 650,
                "all_price": 1.1, "apple_price": 1.1, "orange_price": 1.1}
    for name, value in expected.items():
        assert close(grads[name], value), name


def test_value_used_twice_sums_its_gradients():
    # z = x·x + x at x = 3: dz/dx = 2x + 1 = 7 (both uses of x in the mul, plus the add)
    g = Graph()
    x = g.input(3.0, "x")
    sq = g.mul(x, x, name="sq")
    g.add(sq, x, name="z")
    assert g.forward() == 12.0
    assert g.backward()["x"] == 7.0


def test_forward_after_changing_an_input_and_dout_scales():
    g = apple_graph()
    g["apple"].value = 150
    assert close(g.forward(), 150 * 2 * 1.1)
    grads = g.backward(2.0)  # every gradient doubles; d/dtax = 2 · 150 · 2 = 600
    assert close(grads["tax"], 600.0) and close(grads["apple"], 4.4)


def test_plain_numbers_become_inputs_and_arrays_work():
    g = Graph()
    total = g.add(np.array([1.0, 2.0]), 3.0, name="total")
    g.mul(total, np.array([10.0, 20.0]), name="out")
    np.testing.assert_allclose(g.forward(), [40.0, 100.0])
    grads = g.backward(np.ones(2))
    # out = (a + 3)·c: d/da = c, d/dc = a + 3
    np.testing.assert_allclose(grads["x1"], [10.0, 20.0])
    np.testing.assert_allclose(grads["x3"], [4.0, 5.0])


def test_report_lists_values_local_derivatives_and_chain():
    g = apple_graph()
    assert "call backward()" in str(g)
    g.forward()
    g.backward(1.0)
    text = g.report()
    assert "apple_price = apple × apple_num = 100 × 2 = 200" in text
    assert "∂apple_price/∂apple = 2," in text and "∂apple_price/∂apple_num = 100" in text
    assert "∂price/∂apple += 1.1 × 2 = 2.2" in text
    assert "input tax = 1.1,  ∂price/∂tax = 200" in text
    assert str(g) == text
    assert "grad=2.2" in repr(g["apple"])


def test_errors():
    g = Graph()
    with pytest.raises(ValueError, match="empty graph"):
        g.forward()
    a = g.input(1.0, "a")
    with pytest.raises(ValueError, match="already used"):
        g.input(2.0, "a")
    with pytest.raises(TypeError, match="b: expected a number"):
        g.mul(a, "two")
    with pytest.raises(ValueError, match="another graph"):
        g.add(a, Graph().input(1.0, "a"))
    assert isinstance(a, Value)
