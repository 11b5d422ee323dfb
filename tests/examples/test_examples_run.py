"""Every example runs end to end with --quick and writes its figures."""
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
SCRIPTS = sorted(p.name for p in EXAMPLES.glob("[0-9][0-9]_*.py"))
HAVE_MATPLOTLIB = importlib.util.find_spec("matplotlib") is not None

# The figures each example must write (with matplotlib installed).
FIGURES = {
    "01_perceptron_and_gates.py": ["perceptron_lines.png"],
    "02_xor_backprop.py": ["xor.png"],
    "03_computational_graph.py": ["apple_orange_graph.png"],
    "04_mnist_mlp.py": ["history.png", "confusion_matrix.png", "misclassified.png"],
    "05_optimizers_compared.py": ["optimizer_paths.png", "mnist_loss.png"],
    "06_initializers_compared.py": ["histograms_sigmoid.png", "histograms_relu.png",
                                    "mnist_loss.png"],
    "07_dropout_overfitting.py": ["history_plain.png", "train_vs_test.png"],
    "08_cnn.py": ["filters_before.png", "filters_after.png", "history.png", "misclassified.png"],
    "09_functional_feature_maps.py": ["feature_maps.png", "ticket_model.png"],
    "10_rnn_reviews.py": ["curves.png", "time_step_gradients.png"],
    "11_tuning.py": ["objective.png", "parallel.png", "learning_curves.png"],
    "12_image_folder.py": ["augmented.png", "history.png"],
}
# Examples that need an extra beyond matplotlib: without it they say how to install it.
EXTRAS = {"11_tuning.py": (("optuna", "h5py"), 'pip install "mitbadak[tune]"'),
          "12_image_folder.py": (("PIL",), 'pip install "mitbadak[image]"')}


def test_every_example_is_listed():
    assert SCRIPTS == sorted(FIGURES)


@pytest.mark.parametrize("script", SCRIPTS)
def test_example_runs_quick(script, tmp_path):
    if script == "08_cnn.py":
        from mitbadak import keras
        if not hasattr(keras.layers, "Conv2D"):
            pytest.skip("keras.layers.Conv2D does not exist yet")
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env["MPLBACKEND"] = "Agg"
    # Small products run fastest on one BLAS thread, and CI machines are small and shared.
    env.update(MITBADAK_BLAS_THREADS="1", OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1",
               MKL_NUM_THREADS="1")
    out = tmp_path / "out"
    result = subprocess.run([sys.executable, str(EXAMPLES / script), "--quick", "--out", str(out)],
                            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"{script} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    assert result.stdout.strip(), f"{script} printed nothing"
    modules, hint = EXTRAS.get(script, ((), ""))
    if any(importlib.util.find_spec(m) is None for m in modules):
        assert hint in result.stdout
    elif HAVE_MATPLOTLIB:
        for name in FIGURES[script]:
            figure = out / name
            assert figure.is_file() and figure.stat().st_size > 1000, f"{script}: no {name}"
    else:
        assert "matplotlib is not installed" in result.stdout
