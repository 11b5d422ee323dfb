"""keras.utils.plot_model draws with matplotlib: files read back (PNG pixels, SVG boxes and
arrows by id, PDF header), the layout's geometry, the options, the notebook return value, and
the errors. The expected boxes and arrows are written out by hand from each model's code."""
import os
import sys
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from mitbadak import keras
from mitbadak.keras import layers
from mitbadak.utils import model_visualization as mv

pytest.importorskip("matplotlib", reason="plot_model needs matplotlib (the plot extra)")
DPI = 30                                       # small images keep the tests fast


# ---------------------------------------------------------------- the models and their pictures
def sequential():
    return keras.Sequential([keras.Input(shape=(28, 28, 1)),
                             layers.Conv2D(8, 3, activation="relu", name="conv"),
                             layers.MaxPooling2D(2, name="pool"), layers.Flatten(name="flat"),
                             layers.Dense(10, activation="softmax", name="out")])


def ticket():                                  # Deep Learning with Python, ch. 7
    title = keras.Input(shape=(100,), name="title")
    text_body = keras.Input(shape=(100,), name="text_body")
    tags = keras.Input(shape=(10,), name="tags")
    features = layers.Concatenate(name="concat")([title, text_body, tags])
    features = layers.Dense(64, activation="relu", name="features")(features)
    priority = layers.Dense(1, activation="sigmoid", name="priority")(features)
    department = layers.Dense(4, activation="softmax", name="department")(features)
    return keras.Model(inputs=[title, text_body, tags], outputs=[priority, department])


def residual():
    inputs = keras.Input(shape=(16, 16, 3), name="inp")
    x = layers.Conv2D(8, 3, activation="relu", name="c1")(inputs)
    residual = x
    x = layers.Conv2D(16, 3, activation="relu", padding="same", name="c2")(x)
    x = layers.MaxPooling2D(2, padding="same", name="pool")(x)
    residual = layers.Conv2D(16, 1, strides=2, name="proj")(residual)
    x = layers.add([x, residual], name="add")
    x = layers.Flatten(name="flat")(x)
    return keras.Model(inputs, layers.Dense(10, activation="softmax", name="out")(x))


def shared():
    left, right = keras.Input((8,), name="left"), keras.Input((8,), name="right")
    encoder = layers.Dense(4, activation="relu", name="shared_dense")
    merged = layers.Concatenate(name="concat")([encoder(left), encoder(right)])
    return keras.Model([left, right], layers.Dense(1, activation="sigmoid", name="same")(merged))


def nested():
    inner_in = keras.Input((16,), name="inner_in")
    h = layers.Dense(8, activation="relu", name="inner_a")(inner_in)
    encoder = keras.Model(inner_in, layers.Dense(8, name="inner_b")(h), name="encoder")
    head = keras.Sequential([layers.Dense(4, activation="relu", name="head_a"),
                             layers.Dense(2, name="head_b")], name="head")
    x = keras.Input((16,), name="x")
    return keras.Model(x, layers.Dense(1, name="out")(head(encoder(x))))


def chain(*names):
    return {f"{a}-to-{b}" for a, b in zip(names, names[1:])}


# name: (model, expand_nested, boxes, arrows) as Keras 3 draws them
CASES = {
    "sequential": (sequential, False, {"conv", "pool", "flat", "out"},   # no InputLayer box
                   chain("conv", "pool", "flat", "out")),
    "ticket": (ticket, False, {"title", "text_body", "tags", "concat", "features", "priority",
                               "department"},
               {"title-to-concat", "text_body-to-concat", "tags-to-concat", "concat-to-features",
                "features-to-priority", "features-to-department"}),
    "residual": (residual, False, {"inp", "c1", "c2", "pool", "proj", "add", "flat", "out"},
                 chain("inp", "c1", "c2", "pool", "add", "flat", "out")
                 | {"c1-to-proj", "proj-to-add"}),
    "shared": (shared, False, {"left", "right", "shared_dense", "concat", "same"},
               {"left-to-shared_dense", "right-to-shared_dense", "shared_dense-to-concat",
                "concat-to-same"}),
    "nested": (nested, False, {"x", "encoder", "head", "out"},
               chain("x", "encoder", "head", "out")),
    "nested_expanded": (nested, True, {"x", "inner_in", "inner_a", "inner_b", "head_a", "head_b",
                                       "out"},
                        chain("x", "inner_in", "inner_a", "inner_b", "head_a", "head_b", "out")),
}


def svg_ids(path):
    return [el.get("id") for el in ET.parse(path).iter() if el.get("id")]


def svg_text(path):
    return " ".join(el.text or "" for el in ET.parse(path).iter() if el.tag.endswith("text"))


def png(path):
    from matplotlib.image import imread
    return imread(path)


def ink(image):
    """Share of pixels that are not white."""
    return float((image[..., :3] < 0.9).any(axis=-1).mean())


@pytest.mark.parametrize("case", sorted(CASES))
def test_png_and_svg_have_a_box_per_layer_and_an_arrow_per_connection(case, tmp_path):
    build, expand, boxes, arrows = CASES[case]
    model = build()
    keras.utils.plot_model(model, tmp_path / "m.png", expand_nested=expand, dpi=DPI)
    image = png(tmp_path / "m.png")
    assert image.shape[0] > 20 and image.shape[1] > 20
    assert 0.02 < ink(image) < 0.7                    # drawn, not blank and not a black block
    keras.utils.plot_model(model, str(tmp_path / "m.svg"), expand_nested=expand)
    ids = svg_ids(tmp_path / "m.svg")
    layer_ids = [i[len("layer-"):] for i in ids if i.startswith("layer-")]
    arrow_ids = [i[len("arrow-"):] for i in ids if i.startswith("arrow-")]
    assert sorted(layer_ids) == sorted(boxes)
    assert sorted(arrow_ids) == sorted(arrows)        # one each: no duplicates either
    frames = {i for i in ids if i.startswith("model-")}
    assert frames == ({"model-encoder", "model-head"} if expand else set())
    assert sorted(os.listdir(tmp_path)) == ["m.png", "m.svg"]   # no temporary files left


def layout_of(model, rankdir="TB", expand=False, **options):
    boxes, arrows, _ = mv.model_graph(model, expand)
    labels = [mv._label(layer, node, True, False, options.get("shapes", False), False, False)
              for layer, node, _ in boxes]
    sizes = [(max(sum(w for _, w, _ in c) for _, c in mv._rows(lab)),
              sum(fs + 2 * mv._PAD for fs, _ in mv._rows(lab))) for lab in labels]
    layout = mv.layered_layout(sizes, arrows, [g for *_, g in boxes], rankdir)
    names = [layer.name for layer, _, _ in boxes]
    rects = {name: (x - w / 2, y - h / 2, x + w / 2, y + h / 2) for name, (x, y), (w, h)
             in zip(names, layout["centers"], layout["sizes"])}
    return layout, names, arrows, rects


def overlap(a, b):
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("rankdir", ["TB", "LR"])
def test_layout_ranks_point_downstream_and_boxes_do_not_overlap(case, rankdir):
    build, expand, _, _ = CASES[case]
    layout, names, arrows, rects = layout_of(build(), rankdir, expand, shapes=True)
    axis = 1 if rankdir == "TB" else 0
    for i, j in arrows:
        route = layout["routes"][(i, j)]
        src, dst = rects[names[i]], rects[names[j]]
        assert route[0][axis] == pytest.approx(src[axis + 2])      # leaves the source's far side
        assert route[-1][axis] == pytest.approx(dst[axis])         # enters the target's near side
        assert src[axis + 2] < dst[axis]                           # the target lies downstream
    for a, b in [(a, b) for a in rects for b in rects if a < b]:
        assert not overlap(rects[a], rects[b]), (a, b)
    width, height = layout["size"]
    assert all(0 <= r[0] and r[2] <= width and 0 <= r[1] and r[3] <= height
               for r in rects.values())


def test_branches_side_by_side():
    _, _, _, rects = layout_of(ticket())
    tops = {rects[n][1] for n in ("title", "text_body", "tags")}
    assert len(tops) == 1                                           # one rank for the inputs
    assert rects["title"][2] < rects["text_body"][0] and rects["text_body"][2] < rects["tags"][0]
    assert rects["priority"][1] == rects["department"][1]
    assert rects["priority"][2] < rects["department"][0] or rects["department"][2] < \
        rects["priority"][0]


def test_boxes_sit_at_the_mean_of_their_neighbours():
    _, names, _, rects = layout_of(ticket(), shapes=True)
    x = {name: (r[0] + r[2]) / 2 for name, r in rects.items()}
    assert x["concat"] == pytest.approx((x["title"] + x["text_body"] + x["tags"]) / 3)
    assert x["features"] == pytest.approx(x["concat"])
    assert x["features"] == pytest.approx((x["priority"] + x["department"]) / 2)
    _, _, _, rects = layout_of(residual())
    assert rects["pool"][0] + rects["pool"][2] == pytest.approx(rects["c2"][0] + rects["c2"][2])


def test_frame_holds_its_layers_and_no_other():
    layout, names, _, rects = layout_of(nested(), expand=True)
    members = {0: {"inner_in", "inner_a", "inner_b"}, 1: {"head_a", "head_b"}}
    for frame, (x0, y0, x1, y1) in layout["frames"].items():
        for name, r in rects.items():
            inside = x0 < r[0] and r[2] < x1 and y0 < r[1] and r[3] < y1
            assert inside == (name in members[frame]), name
            assert inside or not overlap((x0, y0, x1, y1), r), name
    assert not overlap(layout["frames"][0], layout["frames"][1])      # one after the other
    # a nested model beside a plain branch: the frame keeps clear of the branch's boxes
    x = keras.Input((16,), name="x")
    inner_in = keras.Input((16,), name="inner_in")
    encoder = keras.Model(inner_in, layers.Dense(8, name="inner_a")(inner_in), name="encoder")
    side = layers.Dense(8, name="side")(layers.Dense(8, name="side0")(x))
    model = keras.Model(x, layers.Concatenate(name="concat")([side, encoder(x)]))
    layout, _, _, rects = layout_of(model, expand=True)
    (frame,) = layout["frames"].values()
    room = (frame[0] - 10, frame[1] - 10, frame[2] + 10, frame[3] + 10)   # and a gap
    assert not any(overlap(room, rects[n]) for n in ("x", "side0", "side", "concat"))
    assert all(overlap(frame, rects[n]) for n in ("inner_in", "inner_a"))


def test_barycenter_order_removes_a_crossing():
    # 0 -> 3 and 1 -> 2: in the given order the two arrows cross; the sweeps untangle them
    layout = mv.layered_layout([(40, 20)] * 4, [(0, 3), (1, 2)], [()] * 4)
    x = [c[0] for c in layout["centers"]]
    assert (x[0] < x[1]) == (x[3] < x[2])


def test_long_arrow_bends_around_the_boxes_between():
    layout, names, arrows, rects = layout_of(residual())
    i, j = names.index("c1"), names.index("proj")
    # proj sits in pool's rank (longest path), so c1 -> proj skips c2's rank
    route = layout["routes"][(i, j)]
    for name in ("c2", "pool"):
        r = rects[name]
        assert not any(r[0] < x < r[2] and r[1] < y < r[3] for x, y in route)


def test_a_layer_fed_its_own_output_is_drawn(tmp_path):
    x = keras.Input((4,), name="x")
    d, e = layers.Dense(4, name="d"), layers.Dense(4, name="e")
    model = keras.Model(x, layers.Dense(1, name="o")(d(e(d(d(x))))))
    keras.utils.plot_model(model, tmp_path / "m.svg")
    ids = svg_ids(tmp_path / "m.svg")
    assert sorted(i for i in ids if i.startswith("arrow-")) == sorted(
        ["arrow-x-to-d", "arrow-d-to-d", "arrow-d-to-e", "arrow-e-to-d", "arrow-d-to-o"])
    assert sorted(i for i in ids if i.startswith("layer-")) == ["layer-d", "layer-e",
                                                                 "layer-o", "layer-x"]


# ---------------------------------------------------------------- options
def test_box_text_follows_the_options(tmp_path):
    model = ticket()
    model.get_layer("priority").trainable = False
    keras.utils.plot_model(model, tmp_path / "plain.svg")
    plain = svg_text(tmp_path / "plain.svg")
    assert "Concatenate" in plain and "(Concatenate)" not in plain     # Keras 3: no names
    assert "shape" not in plain and "Activation" not in plain and "Trainable" not in plain
    keras.utils.plot_model(model, tmp_path / "full.svg", show_shapes=True, show_dtype=True,
                           show_layer_names=True, show_layer_activations=True,
                           show_trainable=True)
    full = svg_text(tmp_path / "full.svg")
    for text in ["title (InputLayer)", "concat (Concatenate)", "Output shape: (None, 100)",
                 "Input shape: [(None, 100), (None, 100), (None, 10)]",
                 "Output shape: (None, 210)", "Input shape: (None, 210)",
                 "Output shape: (None, 64)", "Output shape: (None, 4)",
                 "Activation: relu", "Activation: softmax", "Output dtype: float32",
                 "Trainable", "Non-trainable"]:
        assert text in full, text
    assert "Input shape: (None, 100)" not in full      # an InputLayer shows only its output
    assert full.count("Non-trainable") == 1             # priority; layers without weights: none
    assert full.count("Trainable") == 2                 # features, department


def test_show_shapes_and_rankdir_change_the_picture(tmp_path):
    model = sequential()
    keras.utils.plot_model(model, tmp_path / "tb.png", dpi=DPI)
    keras.utils.plot_model(model, tmp_path / "shapes.png", dpi=DPI, show_shapes=True)
    keras.utils.plot_model(model, tmp_path / "lr.png", dpi=DPI, rankdir="LR")
    tb, shapes, lr = (png(tmp_path / f).shape for f in ("tb.png", "shapes.png", "lr.png"))
    assert tb[0] > 1.5 * tb[1]                          # a chain of 4 boxes, top to bottom
    assert lr[1] > 3 * lr[0]                            # the same chain, left to right
    assert shapes[1] > 2 * tb[1] and shapes[0] > tb[0]  # shape cells make the boxes bigger


def test_dpi_scales_the_png(tmp_path):
    model = shared()
    keras.utils.plot_model(model, tmp_path / "a.png", dpi=DPI)
    keras.utils.plot_model(model, tmp_path / "b.png", dpi=2 * DPI)
    (h1, w1), (h2, w2) = png(tmp_path / "a.png").shape[:2], png(tmp_path / "b.png").shape[:2]
    assert abs(h2 - 2 * h1) <= 2 and abs(w2 - 2 * w1) <= 2


def test_pdf_and_a_file_without_extension(tmp_path):
    assert keras.utils.plot_model(residual(), tmp_path / "m.pdf") is None
    assert (tmp_path / "m.pdf").read_bytes()[:4] == b"%PDF"
    keras.utils.plot_model(residual(), tmp_path / "picture", dpi=DPI)
    assert (tmp_path / "picture").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_sequential_built_from_data_and_subclassed_model(tmp_path):
    model = keras.Sequential([layers.Dense(4, name="d1"), layers.Dense(2, name="d2")])
    model.predict(np.zeros((2, 3), "float32"), verbose=0)
    keras.utils.plot_model(model, tmp_path / "s.svg")
    ids = svg_ids(tmp_path / "s.svg")
    assert [i for i in ids if i.startswith(("layer-", "arrow-"))] == [
        "arrow-d1-to-d2", "layer-d1", "layer-d2"]

    class Classifier(keras.Model):
        def __init__(self):
            super().__init__(name="classifier")
            self.hidden, self.out = layers.Dense(8), layers.Dense(2)

        def call(self, inputs):
            return self.out(self.hidden(inputs))

    sub = Classifier()
    with pytest.raises(ValueError, match="not been built"):
        keras.utils.plot_model(sub, tmp_path / "c.svg")
    sub.build((None, 5))
    keras.utils.plot_model(sub, tmp_path / "c.svg", show_shapes=True)   # one box, as Keras
    ids = svg_ids(tmp_path / "c.svg")
    assert [i for i in ids if i.startswith(("layer-", "arrow-"))] == ["layer-classifier"]
    assert "Classifier" in svg_text(tmp_path / "c.svg")


# ---------------------------------------------------------------- notebook, errors, the file
def test_notebook_gets_an_image(tmp_path, monkeypatch):
    display = pytest.importorskip("IPython.display")
    image = keras.utils.plot_model(ticket(), tmp_path / "m.png", dpi=DPI)
    assert isinstance(image, display.Image)
    assert image.data == (tmp_path / "m.png").read_bytes()
    svg = keras.utils.plot_model(ticket(), tmp_path / "m.svg")
    assert isinstance(svg, display.SVG) and "layer-concat" in svg.data
    monkeypatch.setitem(sys.modules, "IPython", None)                 # IPython not installed
    assert keras.utils.plot_model(ticket(), tmp_path / "n.png", dpi=DPI) is None
    assert (tmp_path / "n.png").stat().st_size > 0


def test_without_matplotlib_the_error_names_the_extra(tmp_path, monkeypatch):
    for name in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
        monkeypatch.setitem(sys.modules, name, None)
    with pytest.raises(ImportError, match=r'pip install "mitbadak\[plot\]"'):
        keras.utils.plot_model(sequential(), tmp_path / "m.png")
    assert not os.listdir(tmp_path)


def test_bad_arguments():
    model = sequential()
    with pytest.raises(ValueError, match="not been built"):
        keras.utils.plot_model(keras.Sequential([layers.Dense(2)]))
    with pytest.raises(ValueError, match="layer_range"):
        keras.utils.plot_model(model, layer_range=["conv", "out"])
    with pytest.raises(ValueError, match="show_layer_name"):
        keras.utils.plot_model(model, show_layer_name=True)
    with pytest.raises(ValueError, match="rankdir"):
        keras.utils.plot_model(model, rankdir="top")
    with pytest.raises(ValueError, match="'xyz' format"):
        keras.utils.plot_model(model, "m.xyz")


def test_a_failed_plot_leaves_the_old_file(tmp_path, monkeypatch):
    from matplotlib.figure import Figure
    target = tmp_path / "model.png"
    target.write_bytes(b"old picture")

    def broken_savefig(self, fname, **kwargs):
        fname.write(b"half a png")
        raise OSError("disk full")

    monkeypatch.setattr(Figure, "savefig", broken_savefig)
    with pytest.raises(OSError, match="disk full"):
        keras.utils.plot_model(sequential(), target)
    assert target.read_bytes() == b"old picture"
    assert os.listdir(tmp_path) == ["model.png"]
