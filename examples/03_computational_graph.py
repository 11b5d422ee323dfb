"""03 · Backpropagation on a computational graph: the notes' apples (and oranges).

Buying 2 apples at 100 each with a tax of 1.1 costs (100 × 2) × 1.1 = 220. Going forward
through the graph computes the price; going backward hands each input its derivative:
how much the price moves when that input moves by one unit. A multiply node passes back
upstream × the *other* input; an add node passes its upstream value unchanged.

    python examples/03_computational_graph.py [--out out/03_computational_graph]
"""
from _common import have_matplotlib, parse_args, save

from mitbadak.graph import AddLayer, Graph, MulLayer


def by_hand():
    """The notes' buy_apple.py: two MulLayers, forward then backward, in plain calls."""
    apple, apple_num, tax = 100, 2, 1.1
    mul_apple_layer, mul_tax_layer = MulLayer(), MulLayer()
    apple_price = mul_apple_layer.forward(apple, apple_num)     # 200
    price = mul_tax_layer.forward(apple_price, tax)             # 220
    dprice = 1
    dapple_price, dtax = mul_tax_layer.backward(dprice)         # 1.1, 200
    dapple, dapple_num = mul_apple_layer.backward(dapple_price)  # 2.2, 110
    print(f"1. By hand: price = {price:g}")
    print(f"   dprice/dapple = {dapple:g}, dprice/dapple_num = {dapple_num:g}, "
          f"dprice/dtax = {dtax:g}")
    print("   (one more yen per apple costs 2.2 yen; one more apple 110 yen; tax +1 is +200)")


def apple_orange_graph():
    """The notes' buy_apple_orange.py, recorded on a Graph: (100·2 + 150·3) · 1.1 = 715."""
    g = Graph()
    apple, apple_num = g.input(100, "apple"), g.input(2, "apple_num")
    orange, orange_num = g.input(150, "orange"), g.input(3, "orange_num")
    tax = g.input(1.1, "tax")
    apple_price = g.mul(apple, apple_num, name="apple_price")
    orange_price = g.mul(orange, orange_num, name="orange_price")
    all_price = g.add(apple_price, orange_price, name="all_price")
    g.mul(all_price, tax, name="price")
    return g


def main():
    args = parse_args("03_computational_graph", __doc__.splitlines()[0], epochs=0)
    by_hand()
    g = apple_orange_graph()
    price = g.forward()
    grads = g.backward(1.0)
    print(f"\n2. Apples and oranges on a Graph: price = {price:g}")
    print(g.report())
    add = AddLayer()
    add.forward(3, 4)
    print(f"\n   An add node passes the gradient through: AddLayer().backward(1.3) = "
          f"{tuple(float(v) for v in add.backward(1.3))}")
    print(f"   d price / d orange = {grads['orange']:g} (= tax × orange_num = 1.1 × 3)")
    if have_matplotlib():
        save(draw(g), args.out, "apple_orange_graph.png")


def draw(g):
    """Nodes as circles, values above each edge (forward), gradients below it (backward)."""
    import matplotlib.pyplot as plt
    producers = {n.output.name: n for n in g.nodes}
    col = {}
    for n in g.nodes:                                   # a node sits right of its inputs
        col[n.output.name] = 1 + max(col.get(v.name, 0) for v in n.inputs)
    for n in g.nodes:                                   # a leaf sits just left of its node
        for v in n.inputs:
            if v.name not in producers:
                col[v.name] = col[n.output.name] - 1
    y, first_column = {}, 0
    for n in g.nodes:                                   # a node sits level with its inputs
        for v in n.inputs:
            if v.name not in producers and col[v.name] == 0 and v.name not in y:
                y[v.name] = -1.6 * first_column         # first-column leaves: top to bottom
                first_column += 1
        known = [y[v.name] for v in n.inputs if v.name in y]
        for v in n.inputs:                              # a later leaf (tax): above its partner
            y.setdefault(v.name, max(known) + 1.6 if known else 0.0)
        y[n.output.name] = sum(y[v.name] for v in n.inputs) / len(n.inputs)
    pos = {name: (3.0 * col[name], y[name]) for name in g.values}
    fig, ax = plt.subplots(figsize=(11, 5))

    def edge(a, b, value, grad):
        ax.annotate("", xy=b, xytext=a, arrowprops=dict(arrowstyle="->", color="0.3",
                                                        shrinkA=18, shrinkB=18))
        mx, my = a[0] + 0.45 * (b[0] - a[0]), a[1] + 0.45 * (b[1] - a[1])
        ax.text(mx, my + 0.12, f"{value:g}", ha="center", fontsize=10)
        ax.text(mx, my - 0.32, f"{grad:.4g}", ha="center", fontsize=10, color="tab:red")

    for n in g.nodes:
        x, y = pos[n.output.name]
        ax.add_patch(plt.Circle((x, y), 0.35, fill=False, linewidth=1.5))
        ax.text(x, y, n.symbol, ha="center", va="center", fontsize=14)
        ax.text(x, y - 0.6, n.output.name, ha="center", fontsize=8, color="0.4")
        for v in n.inputs:
            edge(pos[v.name], (x, y), v.value, v.grad)
    for name in g.values:
        if name not in producers:
            x, y = pos[name]
            ax.text(x, y, name, ha="center", va="center", fontsize=10,
                    bbox=dict(boxstyle="round", facecolor="#eef"))
    last = g.nodes[-1].output
    x, y = pos[last.name]
    edge((x, y), (x + 3, y), last.value, last.grad)
    ax.text(x + 3, y, last.name, ha="left", va="center", fontsize=11)
    ax.set_xlim(-1, x + 4.5)
    ax.set_ylim(min(p[1] for p in pos.values()) - 1.0, max(p[1] for p in pos.values()) + 0.8)
    ax.axis("off")
    ax.set_title("forward values (black, above) and backward gradients d price / d · "
                 "(red, below)")
    fig.tight_layout()
    return fig


if __name__ == "__main__":
    main()
