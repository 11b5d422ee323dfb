"""utils.Dataset (tf.data's everyday methods on NumPy), PyDataset/Sequence with workers, and
load_img / img_to_array / array_to_img / save_img."""
from __future__ import annotations

import os
import threading
import warnings

import numpy as np
import pytest

from mitbadak import keras
from mitbadak.utils.dataset import Dataset, from_tensor_slices


def numbers(n=10):
    return from_tensor_slices((np.arange(n), np.arange(n) * 10))


def test_batch_unbatch_take_skip_repeat():
    ds = numbers()
    batches = list(ds.batch(4))
    assert [b[0].tolist() for b in batches] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert len(ds.batch(4)) == 3 and len(ds.batch(4, drop_remainder=True)) == 2
    assert [int(x) for x, _ in ds.batch(3).unbatch()] == list(range(10))
    assert [int(x) for x, _ in ds.skip(7)] == [7, 8, 9] and len(ds.take(3)) == 3
    assert len(list(ds.repeat(2))) == 20 and len(ds.repeat(2)) == 20
    with pytest.raises(TypeError, match="unknown"):
        len(ds.repeat())
    assert len(list(ds.repeat().take(25))) == 25
    assert ds.repeat().cardinality() == -1


def test_map_calls_with_the_parts_and_keeps_order_in_parallel():
    ds = numbers().map(lambda x, y: x + y)
    assert [int(v) for v in ds] == [11 * i for i in range(10)]
    # Element 0 waits until element 1 has run: they finish out of order, come out in order.
    second_done = threading.Event()

    def work(x, y):
        if x == 0:
            assert second_done.wait(5)
        if x == 1:
            second_done.set()
        return x
    parallel = numbers(20).map(work, num_parallel_calls=4)
    assert [int(v) for v in parallel] == list(range(20))


def test_shuffle_is_tf_datas_buffer_shuffle():
    ds = from_tensor_slices(np.arange(100))
    full = [int(v) for v in ds.shuffle(100, seed=1)]
    assert sorted(full) == list(range(100)) and full != list(range(100))
    again = [int(v) for v in ds.shuffle(100, seed=1)]
    assert again == full                                  # same seed, same first pass
    shuffled = ds.shuffle(100, seed=1)
    assert [int(v) for v in shuffled] != [int(v) for v in shuffled]   # a new order each pass
    fixed = ds.shuffle(100, seed=1, reshuffle_each_iteration=False)
    assert [int(v) for v in fixed] == [int(v) for v in fixed]
    # A buffer of 5: the first output is one of the first five elements, and no element
    # comes out more than 4 places before its turn.
    local = [int(v) for v in ds.shuffle(5, seed=2)]
    assert local[0] < 5 and all(pos >= v - 4 for pos, v in enumerate(local))


def test_cache_reads_the_source_once():
    calls = []
    ds = numbers(5).map(lambda x, y: calls.append(int(x)) or x).cache()
    assert [int(v) for v in ds] == [int(v) for v in ds] == list(range(5))
    assert calls == list(range(5))


def test_prefetch_runs_ahead_on_a_thread_and_stops_early():
    produced = []
    ahead = threading.Event()

    def source():
        for i in range(100):
            produced.append(i)
            if i == 3:
                ahead.set()
            yield i
    ds = Dataset(source, 100).prefetch(3)
    before = set(threading.enumerate())
    it = iter(ds)
    assert next(it) == 0
    mine = [t for t in threading.enumerate() if t not in before]
    assert [t.name for t in mine] == ["mitbadak-prefetch"]
    assert ahead.wait(5)                            # made ahead of the consumer
    it.close()                                      # stopping early stops the thread
    assert not mine[0].is_alive() and len(produced) < 100


def test_prefetch_raises_the_sources_error_where_it_happened():
    def source():
        yield 1
        raise OSError("disk gone")
    it = iter(Dataset(source, 2).prefetch(2))
    assert next(it) == 1
    with pytest.raises(OSError, match="disk gone"):
        next(it)


def test_strings_batch_as_object_arrays():
    ds = Dataset(lambda: iter(["a", "bb", "ccc"]), 3).batch(2)
    first = next(iter(ds))
    assert first.dtype == object and list(first) == ["a", "bb"]


class Squares(keras.utils.PyDataset):
    def __init__(self, n=6, **kwargs):
        super().__init__(**kwargs)
        self.n, self.epochs, self.pid = n, 0, os.getpid()

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return np.full((2, 3), i, np.float32), np.full((2,), i * i, np.float32)

    def on_epoch_end(self):
        self.epochs += 1


@pytest.mark.parametrize("kwargs", [{}, {"workers": 3}, {"workers": 2, "max_queue_size": 1},
                                    {"workers": 2, "use_multiprocessing": True}])
def test_pydataset_yields_its_batches_in_order(kwargs):
    data = Squares(**kwargs)
    batches = list(data)
    assert [int(x[0, 0]) for x, _ in batches] == list(range(6))
    assert [int(y[0]) for _, y in batches] == [i * i for i in range(6)]
    assert data.num_batches == 6


def test_pydataset_trains_and_on_epoch_end_runs():
    data = Squares(workers=2)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    history = model.fit(data, epochs=3, verbose=0)
    assert len(history.history["loss"]) == 3 and data.epochs == 3


def test_sequence_without_super_init_and_pydataset_warning():
    class OldStyle(keras.utils.Sequence):              # tf.keras 2 code never called super()
        def __len__(self):
            return 2

        def __getitem__(self, i):
            return np.zeros((1, 2)), np.zeros((1,))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert len(list(OldStyle())) == 2

    class Forgot(keras.utils.PyDataset):
        def __init__(self):
            pass

        def __len__(self):
            return 1

        def __getitem__(self, i):
            return np.zeros((1, 2)), np.zeros((1,))
    with pytest.warns(UserWarning, match="super"):
        list(Forgot())
    with pytest.raises(NotImplementedError, match="__getitem__"):
        keras.utils.PyDataset()[0]


def test_image_utils_round_trip(tmp_path):
    pytest.importorskip("PIL")
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, (7, 9, 3)).astype(np.float32)
    keras.utils.save_img(tmp_path / "a.png", img, scale=False)
    loaded = keras.utils.load_img(tmp_path / "a.png")
    assert loaded.size == (9, 7) and loaded.mode == "RGB"
    np.testing.assert_array_equal(keras.utils.img_to_array(loaded), img)
    gray = keras.utils.img_to_array(keras.utils.load_img(tmp_path / "a.png",
                                                         color_mode="grayscale"))
    assert gray.shape == (7, 9, 1)
    small = keras.utils.load_img(tmp_path / "a.png", target_size=(4, 5))
    assert small.size == (5, 4)
    kept = keras.utils.load_img(tmp_path / "a.png", target_size=(4, 4), keep_aspect_ratio=True)
    assert kept.size == (4, 4)
    # array_to_img scales min..max to 0..255 unless told not to.
    scaled = np.asarray(keras.utils.array_to_img(np.array([[[0.0], [0.5]], [[1.0], [0.25]]])))
    np.testing.assert_array_equal(scaled, [[0, 127], [255, 63]])
    first = keras.utils.img_to_array(loaded, data_format="channels_first")
    assert first.shape == (3, 7, 9)
    with pytest.raises(ValueError, match="rank 3"):
        keras.utils.array_to_img(np.zeros((2, 2)))
    with pytest.raises(ValueError, match="color_mode"):
        keras.utils.load_img(tmp_path / "a.png", color_mode="cmyk")
    with pytest.warns(UserWarning, match="RGBA"):
        keras.utils.save_img(tmp_path / "b.jpg", np.zeros((3, 3, 4)))


def test_image_utils_match_keras():
    os.environ.setdefault("KERAS_BACKEND", "numpy")
    k = pytest.importorskip("keras")
    if k.backend.backend() not in ("numpy", "jax"):
        pytest.skip("needs Keras 3 on its NumPy or JAX backend")
    rng = np.random.default_rng(1)
    x = rng.uniform(-3, 5, (6, 5, 3)).astype(np.float32)
    np.testing.assert_array_equal(np.asarray(keras.utils.array_to_img(x)),
                                  np.asarray(k.utils.array_to_img(x)))
    np.testing.assert_allclose(keras.utils.image_utils.smart_resize(x, (4, 4)),
                               np.asarray(k.preprocessing.image.smart_resize(x, (4, 4))),
                               atol=1e-5)
