"""keras.utils.plot_model: the picture of a model's graph, drawn with matplotlib.

Keras draws it with pydot and the Graphviz program, which learners (on Windows above all) often
cannot install; here the picture is computed in plain Python and drawn with matplotlib
(``pip install "mitbadak[plot]"``), in three steps:

1. ``model_graph``: what Keras draws: a box per layer, an arrow per pair of connected layers;
   a nested model is one box, or with ``expand_nested`` a dashed frame around its layers;
2. ``layered_layout``: where it goes: ranks by the longest path from the inputs, branches side
   by side in an order with few crossings (a layered, or Sugiyama, layout);
3. ``draw``: the boxes, arrows and frames on a matplotlib figure, in points (1/72 inch).
"""
from __future__ import annotations

import contextlib
import functools
import os
import secrets
import shutil
from itertools import combinations
from typing import Any

_HEAD, _BODY, _PAD = 13.0, 11.0, 7.0         # header and body font sizes, cell padding (points)
_GAP, _RANK_GAP, _FRAME, _MARGIN = 24.0, 40.0, 22.0, 12.0
_SPLINES = ("ortho", "polyline", "line", "spline", "curved")


def plot_model(model: Any, to_file: Any = "model.png", show_shapes: bool = False,
               show_dtype: bool = False, show_layer_names: bool = False, rankdir: str = "TB",
               expand_nested: bool = False, dpi: int = 200, show_layer_activations: bool = False,
               show_trainable: bool = False, splines: str = "ortho", **kwargs: Any) -> Any:
    """Draw `model`'s graph to `to_file` at `dpi`, as PNG, SVG, PDF, ... by its extension
    (PNG without one). A box per layer shows its class (``name (Class)`` with
    `show_layer_names`), and as asked its activation, input/output shapes, output dtype and
    whether it trains. `rankdir`: 'TB' top to bottom or 'LR' left to right ('BT', 'RL');
    `splines`: arrows as right angles ('ortho'), straight ('polyline', 'line') or curved
    ('spline', 'curved'). Returns ``IPython.display.Image`` (``SVG`` for .svg) when IPython is
    installed, so a notebook shows it; None for PDF and other formats or without IPython."""
    if not model.built:
        raise ValueError(f"plot_model: model {model.name!r} has not been built yet, so it has "
                         f"no graph to draw. Give the first layer input_shape=, call "
                         f"model.build(input_shape), or call the model on a batch of data.")
    if kwargs.pop("layer_range", None) is not None:
        raise ValueError("plot_model: `layer_range` is no longer supported (nor in Keras 3); "
                         "to draw a part, plot keras.Model(inputs, outputs) of that part.")
    if kwargs:
        raise ValueError(f"plot_model: unrecognized keyword argument(s) {sorted(kwargs)}.")
    if rankdir not in ("TB", "LR", "BT", "RL"):
        raise ValueError(f"plot_model: rankdir must be 'TB' (top to bottom) or 'LR' (left to "
                         f"right), or 'BT'/'RL'; got {rankdir!r}.")
    if splines not in _SPLINES:
        raise ValueError(f"plot_model: splines must be one of {_SPLINES}; got {splines!r}.")
    try:
        from matplotlib.figure import Figure
    except ImportError as error:
        raise ImportError('plot_model draws with matplotlib, which is not installed: pip '
                          'install "mitbadak[plot]" (or pip install matplotlib). Graphviz and '
                          'pydot are not needed.') from error
    path = os.fspath(to_file)
    fmt = os.path.splitext(path)[1][1:].lower() or "png"
    if fmt not in Figure().canvas.get_supported_filetypes():
        raise ValueError(f"plot_model: cannot write {path!r}: matplotlib has no {fmt!r} "
                         f"format. Use .png, .svg or .pdf.")
    boxes, arrows, frames = model_graph(model, expand_nested)
    labels = [_label(layer, node, show_layer_names, show_layer_activations, show_shapes,
                     show_dtype, show_trainable) for layer, node, _ in boxes]
    sizes = [(max(sum(w for _, w, _ in cells) for _, cells in _rows(label)),
              sum(fs + 2 * _PAD for fs, _ in _rows(label))) for label in labels]
    layout = layered_layout(sizes, arrows, [chain for _, _, chain in boxes], rankdir)
    _save_atomically(draw(Figure, boxes, labels, layout, arrows, frames, splines), path, fmt,
                     dpi)
    return _notebook_image(path, fmt)


# ------------------------------------------------------------------ 1. what is drawn
def _is_graph(layer: Any) -> bool:
    """A functional or Sequential model (a subclassed model has no graph to expand)."""
    return getattr(layer, "_graph", False) is True


def model_graph(model: Any, expand_nested: bool = False) -> tuple[list, list, list]:
    """What Keras draws for `model`: (boxes, arrows, frames).

    boxes: ``(layer, node, chain)`` in ``model.layers`` order (a Sequential's InputLayer is
    not drawn, as in Keras); `node` is the layer's call in its model (whose shapes are shown),
    `chain` the indices in `frames` of the expanded models around it, outermost first.
    arrows: ``(i, j)`` box indices, one per pair of connected layers. A subclassed model is a
    single box. With `expand_nested` a nested functional or Sequential model is a frame, not
    a box: arrows into it go to the layers that read its inputs, arrows out of it leave from
    the layers that make its outputs."""
    boxes, arrows, frames, index = [], [], [], {}
    expand = bool(expand_nested)

    def exits(tensor: Any) -> list[int]:
        layer, _, k = tensor._keras_history
        while expand and _is_graph(layer):
            layer, _, k = layer.outputs[k]._keras_history
        return [index[id(layer)]] if id(layer) in index else []   # a Sequential's Input

    def entries(layer: Any, i: int) -> list[int]:
        if not (expand and _is_graph(layer)):
            return [index[id(layer)]]
        tensor = layer.inputs[i]
        if id(tensor._keras_history[0]) in index:                  # its InputLayer
            return [index[id(tensor._keras_history[0])]]
        return [e for node in layer._nodes for j, t in enumerate(node.input_tensors)
                if t is tensor for e in entries(node.layer, j)]

    def add(m: Any, chain: tuple) -> None:
        mine = {id(node) for node in m._nodes}
        for layer in m.layers:
            if expand and _is_graph(layer):
                frames.append(layer)
                add(layer, chain + (len(frames) - 1,))
            elif id(layer) not in index:
                index[id(layer)] = len(boxes)
                boxes.append((layer, next((n for n in layer._inbound_nodes if id(n) in mine),
                                          None), chain))
        for node in m._nodes:
            for i, tensor in enumerate(node.input_tensors):
                for pair in ((s, d) for s in exits(tensor) for d in entries(node.layer, i)):
                    if pair not in arrows:
                        arrows.append(pair)

    if _is_graph(model):
        add(model, ())
    else:
        boxes.append((model, None, ()))
    return boxes, arrows, frames


def _label(layer: Any, node: Any, names: bool, activations: bool, shapes: bool, dtype: bool,
           trainable: bool) -> list:
    """A box's rows as Keras lays them out, each a list of (text, colour) cells: the header
    (white on black), the activation, then shapes, dtype and trainable side by side."""
    def shown(side: str) -> tuple[str, str]:        # (shape, dtype) text; '?' when unknown
        if node is None:                             # a subclassed model drawn alone
            return str(getattr(layer, side + "_shape", "?")), "?"
        ts = node.input_tensors if side == "input" else node.output_tensors
        if (node.list_input if side == "input" else len(ts) > 1):
            return str([t.shape for t in ts]), str([t.dtype for t in ts])
        return str(ts[0].shape), str(ts[0].dtype)

    cls = type(layer).__name__
    rows = [[(f"{layer.name} ({cls})" if names else cls, "black")]]
    activation = getattr(layer, "activation", None)
    if activations and activation is not None:
        name = getattr(activation, "name", getattr(activation, "__name__", str(activation)))
        rows.append([(f"Activation: {name}", "white")])
    cells = []
    if shapes:
        if cls != "InputLayer":                      # an input shows only its output
            cells.append((f"Input shape: {shown('input')[0]}", "white"))
        cells.append((f"Output shape: {shown('output')[0]}", "white"))
    if dtype:
        cells.append((f"Output dtype: {shown('output')[1]}", "white"))
    if trainable and layer.weights:
        cells.append(("Trainable", "forestgreen") if layer.trainable else
                     ("Non-trainable", "firebrick"))
    return rows + ([cells] if cells else [])


@functools.lru_cache(maxsize=4096)
def _text_width(text: str, size: float, bold: bool) -> float:
    """The advance width of `text` in points, from the font's metrics (no rendering)."""
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import text_to_path
    prop = FontProperties(size=size, weight="bold" if bold else "normal")
    return text_to_path.get_text_width_height_descent(text, prop, ismath=False)[0]


def _rows(label: list) -> list:
    """Per row: (font size, [(text, natural width, colour)]), the header bold and larger."""
    return [(_HEAD if r == 0 else _BODY,
             [(t, _text_width(t, _HEAD if r == 0 else _BODY, r == 0) + 2 * _PAD, c)
              for t, c in row]) for r, row in enumerate(label)]


# ------------------------------------------------------------------ 2. where it goes
def layered_layout(sizes: list, arrows: list, groups: list, rankdir: str = "TB") -> dict:
    """Centres of the boxes and routes of the arrows in a layered drawing, in points.

    sizes: (width, height) per box; arrows: (i, j) box pairs; groups: per box the frames
    around it, outermost first. A box's rank is the longest path to it from a box without
    inputs (an arrow closing a cycle, as a layer shared along one branch makes, is turned
    round); an arrow that skips ranks bends through a point in each rank it crosses. Each
    rank is ordered by the mean place of the neighbours in the rank before, then after
    (barycenter sweeps; a frame's members stay together; the order with fewest crossings
    wins); then each box sits at the mean of its neighbours, pushed just clear of the next.
    Returns {"centers": [(x, y)], "sizes", "routes": {arrow: [(x, y)]}, "frames": {frame:
    (x0, y0, x1, y1)}, "size": (width, height), "vertical"}, y pointing down."""
    vertical = rankdir in ("TB", "BT")
    across = [w if vertical else h for w, h in sizes]
    along = [h if vertical else w for w, h in sizes]
    groups, n = [tuple(g) for g in groups], len(sizes)
    order = _topological(n, [a for a in arrows if a[0] != a[1]])
    first = {v: k for k, v in enumerate(order)}
    forward = [(i, j) if first[i] < first[j] else (j, i) for i, j in arrows if i != j]
    rank = [0] * n
    for v in order:
        rank[v] = max([rank[u] + 1 for u, w in forward if w == v], default=0)
    chains = {}                                # arrow -> the nodes it passes, rank by rank
    for i, j in (a for a in arrows if a[0] != a[1]):
        u, v = (i, j) if rank[i] < rank[j] else (j, i)
        chains[(i, j)] = [u] + list(range(len(rank), len(rank) + rank[v] - rank[u] - 1)) + [v]
        for r in range(rank[u] + 1, rank[v]):  # the bends: thin nodes in the ranks between
            rank.append(r), across.append(_GAP / 2), along.append(0.0)
            groups.append(_common(groups[u], groups[v]))
    pred, succ = [[] for _ in rank], [[] for _ in rank]
    for chain in chains.values():
        for a, b in zip(chain, chain[1:]):
            if b not in succ[a]:
                succ[a].append(b), pred[b].append(a)
    rows = _order([[v for v in range(len(rank)) if rank[v] == r]
                   for r in range(max(rank, default=0) + 1)], pred, succ, groups)

    def sep(a: int, b: int) -> float:          # centre to centre: half widths, gap, frames
        between = len(groups[a]) + len(groups[b]) - 2 * len(_common(groups[a], groups[b]))
        return (across[a] + across[b]) / 2 + _GAP + _FRAME * between

    pos: dict = {}
    for row in rows:
        pos.update(_spread(row, [0.0] * len(row), sep))
    for sweep in range(5):                     # down, up, down, up, down
        down = sweep % 2 == 0
        for row in (rows[1:] if down else rows[-2::-1]):
            near = [pred[v] if down else succ[v] for v in row]
            pos.update(_spread(row, [sum(pos[u] for u in nb) / len(nb) if nb else pos[v]
                                     for v, nb in zip(row, near)], sep))
    return _place(rows, pos, across, along, groups, chains, arrows, n, rankdir)


def _topological(n: int, edges: list) -> list[int]:
    """An order in which every arrow points forward except those closing a cycle: next is
    the first box whose inputs are all placed (else the one with fewest unplaced inputs)."""
    preds = [{u for u, w in edges if w == v} for v in range(n)]
    order: list[int] = []
    while len(order) < n:
        placed = set(order)
        order.append(min((v for v in range(n) if v not in placed),
                         key=lambda v: (len(preds[v] - placed), v)))
    return order


def _common(a: tuple, b: tuple) -> tuple:
    k = 0
    while k < min(len(a), len(b)) and a[k] == b[k]:
        k += 1
    return a[:k]


def _order(rows: list, pred: list, succ: list, groups: list) -> list:
    """Barycenter sweeps: each rank sorted by the mean place of its neighbours in the rank
    before (going down) or after (going up); the order with fewest crossings is kept."""
    best, fewest = [list(r) for r in rows], _crossings(rows, succ)
    for sweep in range(8):
        down = sweep % 2 == 0
        for r in (range(1, len(rows)) if down else range(len(rows) - 2, -1, -1)):
            near = rows[r - 1] if down else rows[r + 1]
            place = {v: (k + 0.5) / len(near) for k, v in enumerate(near)}   # 0..1 across
            key = {}
            for k, v in enumerate(rows[r]):
                nb = pred[v] if down else succ[v]
                key[v] = sum(place[u] for u in nb) / len(nb) if nb else (k + 0.5) / len(rows[r])
            rows[r] = _grouped(rows[r], key, groups)
        crossings = _crossings(rows, succ)
        if crossings < fewest:
            best, fewest = [list(r) for r in rows], crossings
    return best


def _grouped(items: list, key: dict, groups: list, depth: int = 0) -> list:
    """`items` sorted by `key`, the members of each frame kept together (at their mean key)."""
    blocks: dict = {}
    for v in items:
        g = groups[v]
        blocks.setdefault(("frame", g[depth]) if len(g) > depth else ("box", v), []).append(v)
    ranked = sorted(blocks.items(), key=lambda kv: sum(key[v] for v in kv[1]) / len(kv[1]))
    return [w for (kind, _), vs in ranked
            for w in (vs if kind == "box" else _grouped(vs, key, groups, depth + 1))]


def _crossings(rows: list, succ: list) -> int:
    """Pairs of arrows that cross between neighbouring ranks."""
    total = 0
    for upper, lower in zip(rows, rows[1:]):
        place = {v: k for k, v in enumerate(lower)}
        ends = [(k, place[w]) for k, v in enumerate(upper) for w in succ[v]]
        total += sum((a - c) * (b - d) < 0 for (a, b), (c, d) in combinations(ends, 2))
    return total


def _spread(row: list, want: list, sep: Any) -> dict:
    """Places in `row`'s order as near `want` as the separations allow: the mean of the
    placement pushed right from the left and the one pushed left from the right."""
    left, right = list(want), list(want)
    for k in range(1, len(row)):
        left[k] = max(want[k], left[k - 1] + sep(row[k - 1], row[k]))
    for k in range(len(row) - 2, -1, -1):
        right[k] = min(want[k], right[k + 1] - sep(row[k], row[k + 1]))
    return {v: (a + b) / 2 for v, a, b in zip(row, left, right)}


def _place(rows: list, pos: dict, across: list, along: list, groups: list, chains: dict,
           arrows: list, n: int, rankdir: str) -> dict:
    """From (place across, rank) to points: rank bands (the gap after a rank widened for
    the frames ending or starting there), frames, arrow routes, then (x, y)."""
    rank_of = {v: r for r, row in enumerate(rows) for v in row}
    frame_ids = sorted({f for g in groups[:n] for f in g})
    spans = [[rank_of[v] for v in range(n) if f in groups[v]] for f in frame_ids]
    band = [max(along[v] for v in row) for row in rows]
    mid, start = [], 0.0
    for r, b in enumerate(band):
        mid.append(start + b / 2)
        start += b + _RANK_GAP + _FRAME * sum((max(s) == r) + (min(s) == r + 1) for s in spans)
    edge = [(m - b / 2, m + b / 2) for m, b in zip(mid, band)]         # a rank's band
    rect = {v: (pos[v] - across[v] / 2, mid[rank_of[v]] - along[v] / 2,
                pos[v] + across[v] / 2, mid[rank_of[v]] + along[v] / 2) for v in range(n)}
    frames = {}
    for f in frame_ids:                          # a frame's margin grows with its depth
        pads = [(rect[v], _FRAME * (len(groups[v]) - groups[v].index(f)))
                for v in range(n) if f in groups[v]]
        frames[f] = (min(r[0] - p for r, p in pads), min(r[1] - p for r, p in pads),
                     max(r[2] + p for r, p in pads), max(r[3] + p for r, p in pads))
    routes = {}                                 # gap segments run from odd to even points
    for (i, j), chain in chains.items():
        u, v = chain[0], chain[-1]
        into = sorted({c[-2] for c in chains.values() if c[-1] == v}, key=pos.get)
        at = pos[v] + (into.index(chain[-2]) - (len(into) - 1) / 2) * min(
            14.0, across[v] / (len(into) + 1))           # spread the arrows into a box
        points = [(pos[u], rect[u][3]), (pos[u], edge[rank_of[u]][1])]
        points += [(pos[b], e) for b in chain[1:-1] for e in edge[rank_of[b]]]
        points += [(at, edge[rank_of[v]][0]), (at, rect[v][1])]
        routes[(i, j)] = points if u == i else points[::-1]
    for v in (i for i, j in arrows if i == j):            # a layer fed its own output
        x0, y0, x1, y1 = rect[v]
        routes[(v, v)] = [(x1, y0 + (y1 - y0) / 4), (x1 + _GAP / 2, y0 + (y1 - y0) / 4),
                          (x1 + _GAP / 2, y1 - (y1 - y0) / 4), (x1, y1 - (y1 - y0) / 4)]
    spots = [p for r in [*rect.values(), *frames.values()] for p in (r[:2], r[2:])]
    spots += [p for pts in routes.values() for p in pts]
    a0, l0 = min(p[0] for p in spots) - _MARGIN, min(p[1] for p in spots) - _MARGIN
    extent = (max(p[0] for p in spots) + _MARGIN - a0, max(p[1] for p in spots) + _MARGIN - l0)

    vertical = rankdir in ("TB", "BT")

    def xy(p: tuple) -> tuple:
        a, l = p[0] - a0, p[1] - l0
        l = extent[1] - l if rankdir in ("BT", "RL") else l
        return (a, l) if vertical else (l, a)

    def box(r: tuple) -> tuple:
        (xa, ya), (xb, yb) = xy(r[:2]), xy(r[2:])
        return min(xa, xb), min(ya, yb), max(xa, xb), max(ya, yb)

    return {"centers": [xy((pos[v], mid[rank_of[v]])) for v in range(n)],
            "sizes": [(across[v], along[v]) if vertical else (along[v], across[v])
                      for v in range(n)],
            "routes": {k: [xy(p) for p in pts] for k, pts in routes.items()},
            "frames": {f: box(r) for f, r in frames.items()},
            "size": extent if vertical else extent[::-1], "vertical": vertical}


# ------------------------------------------------------------------ 3. drawing it
def draw(Figure: Any, boxes: list, labels: list, layout: dict, arrows: list, frames: list,
         splines: str = "ortho") -> Any:
    """The matplotlib Figure of a laid-out graph: a dashed frame per expanded model (gid
    'model-<name>'), an arrow per connection ('arrow-<from>-to-<to>'), a box per layer
    ('layer-<name>'). A data unit is a point, so the figure is (width/72, height/72) in."""
    from matplotlib.patches import FancyArrowPatch, Rectangle
    width, height = layout["size"]
    fig = Figure(figsize=(width / 72, height / 72))
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, width), ax.set_ylim(height, 0), ax.set_axis_off()
    used: set = set()
    for f, (x0, y0, x1, y1) in layout["frames"].items():
        ax.add_artist(Rectangle((x0, y0), x1 - x0, y1 - y0, fill=False, ls="--", lw=1.0,
                               ec="0.35", gid=_unique(used, "model-" + frames[f].name)))
        ax.text(x0 + 6, y0 + 4, frames[f].name, ha="left", va="top", fontsize=_BODY,
                color="0.25", parse_math=False)
    for i, j in arrows:
        ax.add_artist(FancyArrowPatch(
            path=_arrow_path(layout["routes"][(i, j)], splines, layout["vertical"]),
            arrowstyle="-|>", mutation_scale=12, lw=1.3, color="0.15", shrinkA=0, shrinkB=0,
            gid=_unique(used, f"arrow-{boxes[i][0].name}-to-{boxes[j][0].name}")))
    for (layer, _, _), label, (cx, cy), (w, h) in zip(boxes, labels, layout["centers"],
                                                      layout["sizes"]):
        y = cy - h / 2
        for r, (fs, cells) in enumerate(_rows(label)):   # cells stretched to the box width
            x, extra = cx - w / 2, (w - sum(c[1] for c in cells)) / len(cells)
            for text, natural, colour in cells:
                ax.add_artist(Rectangle((x, y), natural + extra, fs + 2 * _PAD, fc=colour,
                                       ec="black", lw=0.8))
                ax.text(x + (natural + extra) / 2, y + _PAD + fs / 2, text, ha="center",
                        va="center", fontsize=fs, fontweight="bold" if r == 0 else "normal",
                        color="black" if colour == "white" else "white", parse_math=False)
                x += natural + extra
            y += fs + 2 * _PAD
        ax.add_artist(Rectangle((cx - w / 2, cy - h / 2), w, h, fill=False, ec="black", lw=1.2,
                               gid=_unique(used, "layer-" + layer.name)))
    return fig


def _arrow_path(points: list, splines: str, vertical: bool) -> Any:
    """A matplotlib Path along a route: straight within a rank's band; across each gap
    between ranks (odd to even point) a right-angle step ('ortho'), an S-curve ('spline',
    'curved') or a straight line ('polyline', 'line')."""
    from matplotlib.path import Path
    verts, codes = [points[0]], [Path.MOVETO]
    for k in range(1, len(points)):
        p, q = points[k - 1], points[k]
        if k % 2 == 0 and splines in ("ortho", "spline", "curved"):
            m = (p[1] + q[1]) / 2 if vertical else (p[0] + q[0]) / 2
            verts += [(p[0], m), (q[0], m), q] if vertical else [(m, p[1]), (m, q[1]), q]
            codes += [Path.LINETO if splines == "ortho" else Path.CURVE4] * 3
        elif q != verts[-1]:
            verts.append(q), codes.append(Path.LINETO)
    return Path(verts, codes)


def _unique(used: set, name: str) -> str:
    """`name`, or `name-2`, `name-3`, ... when taken (SVG ids must be unique)."""
    candidate, k = name, 1
    while candidate in used:
        k += 1
        candidate = f"{name}-{k}"
    used.add(candidate)
    return candidate


# ------------------------------------------------------------------ the file, the notebook
def _save_atomically(fig: Any, path: str, fmt: str, dpi: int) -> None:
    """Write `fig` to a temporary file in `path`'s folder, renamed onto `path` once complete:
    a failed plot never leaves a half-written file nor spoils the one that was there."""
    from matplotlib import rc_context
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"plot_model: cannot write {path!r}: no folder {folder!r}.")
    tmp = os.path.join(folder, f".{os.path.basename(path)}.{secrets.token_hex(4)}.tmp")
    try:
        with open(tmp, "xb") as f, rc_context({"svg.fonttype": "none"}):  # SVG text as text
            fig.savefig(f, format=fmt, dpi=dpi, facecolor="white")
            f.flush()
            os.fsync(f.fileno())
        if os.path.exists(path):
            with contextlib.suppress(OSError):
                shutil.copymode(path, tmp)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(tmp)
        raise


def _notebook_image(path: str, fmt: str) -> Any:
    """What a notebook shows: IPython's Image for PNG/JPEG/GIF/WebP, SVG for .svg; None for
    other formats (PDF, ...) or when IPython is not installed."""
    try:
        from IPython import display
    except ImportError:
        return None
    if fmt == "svg":
        return display.SVG(filename=path)
    if fmt in ("png", "jpg", "jpeg", "gif", "webp"):
        return display.Image(filename=path, format=fmt)
    return None
