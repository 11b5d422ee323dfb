"""Hyperparameter-search rows (mitbadak.keras_tuner on Optuna), on real MNIST.

    python -m benchmarks --workloads tuner_hyperband,tuner_overhead_sqlite,tuner_overhead_pg
    python -m benchmarks.tuner --row tuner_overhead_sqlite      # one row, prints its JSON

Rows:
  tuner_hyperband         Hyperband (Optuna's HyperbandPruner) against RandomSearch over the
                          same trials (same seed: trial n draws the same values in both), each
                          trial up to max_epochs: epochs trained and best val_accuracy of each.
  tuner_overhead_sqlite   20 one-epoch trials of the notes' MLP (784-100 sigmoid-10 softmax,
  tuner_overhead_pg       SGD, batch 32, learning rate tuned), on the default SQLite file resp. a
                          throw-away local PostgreSQL server: the share of the search's wall
                          time spent outside model.fit (tuner, sampler, storage, weight saving).

Each row runs in its own interpreter (like the other rows) and prints ``BENCH_RESULT {json}``.
"""
from __future__ import annotations

import argparse
import contextlib
import glob
import io
import json
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import time

MARKER = "BENCH_RESULT "
ROWS = ("tuner_hyperband", "tuner_overhead_sqlite", "tuner_overhead_pg")


# ------------------------------------------------------------------ a throw-away PostgreSQL
def _pg_bin(name: str) -> str | None:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return found[-1] if found else shutil.which(name)


@contextlib.contextmanager
def throwaway_postgres():
    """A PostgreSQL server on 127.0.0.1 in a temporary folder; yields its database URL."""
    initdb, pg_ctl = _pg_bin("initdb"), _pg_bin("pg_ctl")
    if not initdb or not pg_ctl:
        raise RuntimeError("no PostgreSQL server program (initdb/pg_ctl): apt-get install "
                           "postgresql")
    import psycopg
    folder = tempfile.mkdtemp(prefix="mitbadak-bench-pg-")
    as_user: list[str] = []
    if os.geteuid() == 0:                       # the server refuses to run as root
        user = pwd.getpwnam("postgres")
        os.chown(folder, user.pw_uid, user.pw_gid)
        as_user = ["runuser", "-u", "postgres", "--"]
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    data = os.path.join(folder, "data")
    quiet = dict(check=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120)
    subprocess.run(as_user + [initdb, "-D", data, "-A", "trust", "-U", "postgres",
                              "--no-sync"], **quiet)
    # Durable commits (fsync on), as a real server would run.
    subprocess.run(as_user + [pg_ctl, "-D", data, "-o",
                              f"-p {port} -k {folder} -c listen_addresses=127.0.0.1",
                              "-l", os.path.join(folder, "log"), "-w", "start"], **quiet)
    try:
        with psycopg.connect(host="127.0.0.1", port=port, user="postgres", dbname="postgres",
                             autocommit=True) as conn:
            conn.execute("CREATE DATABASE bench")
        yield f"postgresql://postgres@127.0.0.1:{port}/bench"
    finally:
        subprocess.run(as_user + [pg_ctl, "-D", data, "-m", "fast", "-w", "stop"],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120)
        shutil.rmtree(folder, ignore_errors=True)


# ------------------------------------------------------------------ the rows
def _notes_mlp(keras, hp):
    """The notes' MLP, 784-100 sigmoid-10 softmax, SGD with a tuned learning rate."""
    model = keras.Sequential([keras.Input(shape=(784,)),
                              keras.layers.Dense(100, activation="sigmoid"),
                              keras.layers.Dense(10, activation="softmax")])
    model.compile(optimizer=keras.optimizers.SGD(hp.Float("learning_rate", 1e-3, 1.0,
                                                          sampling="log")),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def overhead(storage_kind: str, n_trials: int = 20, n_train: int | None = None) -> dict:
    from mitbadak import keras, keras_tuner
    from mitbadak.keras_tuner import tuner as tuner_module
    from .data import load_split

    (x, y), (xv, yv) = load_split("flat", n_train=n_train, n_val=n_train and n_train // 4)
    inside = []
    in_callbacks = []       # the tuner's own callbacks run inside fit: count them outside

    def timed(method):
        def wrapper(self, *args, **kwargs):
            t0 = time.perf_counter()
            try:
                return method(self, *args, **kwargs)
            finally:
                in_callbacks.append(time.perf_counter() - t0)
        return wrapper

    for cls in (tuner_module.SaveBestEpoch, tuner_module.TunerCallback):
        for hook in ("on_epoch_begin", "on_epoch_end"):
            if hook in vars(cls):
                setattr(cls, hook, timed(vars(cls)[hook]))

    class TimedFit(keras_tuner.HyperModel):
        def build(self, hp):
            return _notes_mlp(keras, hp)

        def fit(self, hp, model, *args, **kwargs):
            t0 = time.perf_counter()
            history = model.fit(*args, **kwargs)
            inside.append(time.perf_counter() - t0)
            return history

    folder = tempfile.mkdtemp(prefix="mitbadak-bench-tuner-")
    stack = contextlib.ExitStack()
    try:
        storage = stack.enter_context(throwaway_postgres()) if storage_kind == "pg" else None
        t0 = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()):
            tuner = keras_tuner.RandomSearch(TimedFit(), objective="val_accuracy",
                                             max_trials=n_trials, seed=0, directory=folder,
                                             project_name="overhead", storage=storage)
            t1 = time.perf_counter()
            tuner.search(x, y, batch_size=32, epochs=1, validation_data=(xv, yv), verbose=0)
        t2 = time.perf_counter()
        wall, setup, search = t2 - t0, t1 - t0, t2 - t1
        inside = [sum(inside) - sum(in_callbacks)]   # fit alone, without the tuner's hooks
        best = tuner.oracle.get_best_trials(1)[0]
        result = dict(storage=tuner.oracle.storage_description.split(" ")[0]
                      if storage_kind == "sqlite" else "PostgreSQL (local, fsync on)",
                      trials=n_trials, wall_s=wall, fit_s=sum(inside),
                      tuner_callbacks_s=sum(in_callbacks),
                      setup_s=setup, search_s=search,
                      outside_s=wall - sum(inside), outside_share=1 - sum(inside) / wall,
                      search_outside_share=1 - sum(inside) / search,
                      per_trial_outside_ms=1000 * (search - sum(inside)) / n_trials,
                      best_val_accuracy=best.score,
                      n_train=len(x), n_val=len(xv))
    finally:
        stack.close()
        shutil.rmtree(folder, ignore_errors=True)
    return result


def hyperband_vs_random(max_epochs: int = 9, factor: int = 3, n_train: int = 12_000) -> dict:
    from mitbadak import keras, keras_tuner
    from .data import load_split

    (x, y), (xv, yv) = load_split("flat", n_train=n_train, n_val=n_train // 4)

    def build(hp):
        model = keras.Sequential([
            keras.Input(shape=(784,)),
            keras.layers.Dense(hp.Int("units", 16, 256, step=16),
                               activation=hp.Choice("activation", ["sigmoid", "relu"])),
            keras.layers.Dense(10, activation="softmax")])
        model.compile(optimizer=keras.optimizers.SGD(hp.Float("learning_rate", 1e-3, 1.0,
                                                              sampling="log")),
                      loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        return model

    out = {}
    folder = tempfile.mkdtemp(prefix="mitbadak-bench-hb-")
    try:
        for name in ("hyperband", "random"):
            t0 = time.perf_counter()
            with contextlib.redirect_stdout(io.StringIO()):
                if name == "hyperband":
                    tuner = keras_tuner.Hyperband(build, objective="val_accuracy",
                                                  max_epochs=max_epochs, factor=factor, seed=0,
                                                  directory=folder, project_name=name)
                    n_trials = tuner.oracle.max_trials
                else:
                    tuner = keras_tuner.RandomSearch(build, objective="val_accuracy",
                                                     max_trials=n_trials, seed=0,
                                                     directory=folder, project_name=name)
                tuner.search(x, y, batch_size=32, epochs=max_epochs,
                             validation_data=(xv, yv), verbose=0)
            trials = list(tuner.oracle.trials.values())
            best = tuner.oracle.get_best_trials(1)[0]
            out[name] = dict(
                trials=len(trials), wall_s=time.perf_counter() - t0,
                epochs=sum(len(t.history[0].get("val_accuracy", [])) for t in trials),
                stopped_early=sum(t.status == "STOPPED" for t in trials),
                best_val_accuracy=best.score, best_values=best.hyperparameters.values)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    out["max_epochs"], out["factor"], out["n_train"] = max_epochs, factor, len(x)
    out["epochs_ratio"] = out["hyperband"]["epochs"] / out["random"]["epochs"]
    return out


def run_row(row: str, quick: bool = False) -> dict:
    result: dict = dict(workload=row, framework="mitbadak", ok=False)
    try:
        if row == "tuner_hyperband":
            result.update(hyperband_vs_random(n_train=4_000 if quick else 12_000,
                                              max_epochs=3 if quick else 9))
        elif row in ("tuner_overhead_sqlite", "tuner_overhead_pg"):
            result.update(overhead("pg" if row.endswith("pg") else "sqlite",
                                   n_trials=5 if quick else 20,
                                   n_train=12_000 if quick else None))
        else:
            raise ValueError(f"unknown row {row!r}; rows: {', '.join(ROWS)}")
        result["ok"] = True
    except Exception as err:        # reported in the table, like the other rows' failures
        import traceback
        result["error"] = f"{type(err).__name__}: {err}"
        result["traceback"] = traceback.format_exc()
    return result


def run_in_child(row: str, quick: bool, env: dict, cwd: str, timeout: float) -> dict:
    cmd = [sys.executable, "-m", "benchmarks.tuner", "--row", row] + (["--quick"] if quick
                                                                       else [])
    try:
        proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True,
                              timeout=timeout)
    except subprocess.TimeoutExpired:
        return dict(workload=row, framework="mitbadak", ok=False,
                    error=f"timed out after {timeout} s")
    for line in proc.stdout.splitlines():
        if line.startswith(MARKER):
            return json.loads(line[len(MARKER):])
    return dict(workload=row, framework="mitbadak", ok=False,
                error=f"exited with code {proc.returncode}: {proc.stderr[-800:]}")


def format_rows(results: list[dict]) -> str:
    lines = ["| tuner row | result |", "|---|---|"]
    for r in results:
        if not r.get("ok"):
            lines.append(f"| {r['workload']} | FAILED: {r.get('error', '')[:150]} |")
        elif r["workload"] == "tuner_hyperband":
            hb, rs = r["hyperband"], r["random"]
            lines.append(
                f"| tuner_hyperband | {hb['trials']} trials, max {r['max_epochs']} epochs, "
                f"{r['n_train']} images: Hyperband {hb['epochs']} epochs "
                f"({hb['stopped_early']} stopped early, {hb['wall_s']:.0f} s), best val acc "
                f"{hb['best_val_accuracy']:.4f}; RandomSearch {rs['epochs']} epochs "
                f"({rs['wall_s']:.0f} s), best {rs['best_val_accuracy']:.4f}; epochs ratio "
                f"{r['epochs_ratio']:.2f} |")
        else:
            lines.append(
                f"| {r['workload']} | {r['trials']} one-epoch trials on {r['storage']}, "
                f"{r['n_train']} images: tuner.search {r['search_s']:.2f} s, in fit "
                f"{r['fit_s']:.2f} s, outside fit {100 * r['search_outside_share']:.1f}% "
                f"({r['per_trial_outside_ms']:.1f} ms/trial); with the tuner's set-up "
                f"({r['setup_s']:.2f} s: storage, tables, first build) "
                f"{100 * r['outside_share']:.1f}% |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.tuner")
    p.add_argument("--row", required=True, choices=ROWS)
    p.add_argument("--quick", action="store_true")
    args = p.parse_args(argv)
    result = run_row(args.row, args.quick)
    print(MARKER + json.dumps(result, default=repr), flush=True)
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
