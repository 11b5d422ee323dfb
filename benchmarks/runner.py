"""Parent process of ``python -m benchmarks``: runs every (workload, framework) pair in
its own fresh interpreter (``python -m benchmarks.child``), collects the JSON line each
child prints, and prints a table with same-run ratios."""
from __future__ import annotations

import argparse
import datetime as _dt
import importlib.util
import json
import os
import platform
import statistics
import subprocess
import sys
import time

from . import tuner as tuner_rows
from .child import MARKER
from .workloads import WORKLOADS

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ALL_FRAMEWORKS = ["mitbadak", "keras", "torch", "naive_numpy"]
CNN_ONLY = {"naive_numpy"}
# the python module that must be importable for each framework
_NEEDS = {"mitbadak": "mitbadak", "keras": "tensorflow", "torch": "torch", "naive_numpy": "numpy"}


# The interpreter that runs the Keras children (--keras-python): TensorFlow may live in
# another virtual environment than mitbadak's.
KERAS_PYTHON = os.environ.get("MITBADAK_BENCH_KERAS_PYTHON") or sys.executable


def _available(framework):
    mod = _NEEDS[framework]
    if framework == "keras" and KERAS_PYTHON != sys.executable:
        probe = subprocess.run([KERAS_PYTHON, "-c", "import tensorflow"], capture_output=True,
                               env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
        return (probe.returncode == 0,
                None if probe.returncode == 0 else
                f"keras skipped: {KERAS_PYTHON} cannot import tensorflow")
    if framework == "mitbadak":
        pkg = os.path.join(REPO_ROOT, "mitbadak", "__init__.py")
        if os.path.exists(pkg):
            return True, None
        spec = importlib.util.find_spec("mitbadak")
        if spec is not None and spec.origin not in (None, "namespace"):
            return True, None
        return False, "mitbadak skipped: no mitbadak/__init__.py yet"
    try:
        if importlib.util.find_spec(mod) is not None:
            return True, None
    except (ImportError, ValueError):
        pass
    return False, f"{framework} skipped: module '{mod}' is not installed/importable"


def _applies(workload, framework):
    spec = WORKLOADS[workload]
    if framework in CNN_ONLY and not (spec.get("cnn") and spec.get("naive", True)):
        return False
    if framework == "torch" and spec.get("text"):
        return False                          # torch_peer has no recurrent models
    if spec.get("layout") == "cifar" and framework not in ("mitbadak", "keras"):
        return False
    if spec["kind"] == "folder" and framework not in ("mitbadak", "keras"):
        return False
    return True


def _child_env(threads):
    env = dict(os.environ)
    pp = env.get("PYTHONPATH", "")
    env["PYTHONPATH"] = REPO_ROOT + (os.pathsep + pp if pp else "")
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # quieter logs only; no effect on speed
    if threads:
        for v in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                  "BLIS_NUM_THREADS", "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS"):
            env[v] = str(threads)
        env["MITBADAK_THREADS"] = str(threads)  # else mitbadak's 'auto' policy decides per fit
    return env


def cpu_model():
    """The processor's model name, as lscpu shows it (its 'Model name')."""
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, timeout=10).stdout
        for line in out.splitlines():
            if line.startswith("Model name:"):
                return line.split(":", 1)[1].strip()
    except (OSError, subprocess.SubprocessError):
        pass
    return platform.processor() or platform.machine()


def _load():
    return os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")


def run_one(workload, framework, args, seed=None):
    seed = args.seed if seed is None else seed
    python = KERAS_PYTHON if framework == "keras" else sys.executable
    cmd = [python, "-m", "benchmarks.child", "--workload", workload,
           "--framework", framework, "--seed", str(seed)]
    if args.quick:
        cmd.append("--quick")
    if args.epochs:
        cmd += ["--epochs", str(args.epochs)]
    if args.threads:
        cmd += ["--threads", str(args.threads)]
    if args.naive_steps:
        cmd += ["--naive-steps", str(args.naive_steps)]
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(cmd, cwd=REPO_ROOT, env=_child_env(args.threads),
                              capture_output=True, text=True, timeout=args.timeout)
    except subprocess.TimeoutExpired as e:
        return dict(workload=workload, framework=framework, ok=False,
                    error=f"timed out after {args.timeout} s",
                    stderr_tail=(e.stderr or b"")[-2000:].decode("utf-8", "replace")
                    if isinstance(e.stderr, bytes) else str(e.stderr or "")[-2000:])
    res = None
    for line in proc.stdout.splitlines():
        if line.startswith(MARKER):
            res = json.loads(line[len(MARKER):])
    if res is None:
        res = dict(workload=workload, framework=framework, ok=False,
                   error=f"child exited with code {proc.returncode} and printed no result")
    if not res.get("ok"):
        res["stderr_tail"] = proc.stderr[-3000:]
        res["stdout_tail"] = proc.stdout[-1500:]
    res["seed"] = seed
    res["returncode"] = proc.returncode
    res["parent_wall_s"] = time.perf_counter() - t0
    return res


# ----------------------------------------------------------------- formatting
def _fmt_time(r):
    if not r.get("ok"):
        return "FAILED"
    u = r.get("unit")
    if u == "s/epoch":
        s = f"{r['seconds']:.2f} s/ep"
        return s + ("*" if r.get("extrapolated") else "")
    if u == "us/step":
        return f"{r['us_per_step']:.0f} us/step"
    return f"{r['images_per_s']:.0f} img/s"


def _ratio(a, b):
    if a is None or b is None or not b:
        return "-"
    return f"{a / b:.2f}"


def _by(results):
    d = {}
    for r in results:
        d[(r["workload"], r["framework"])] = r
    return d


def aggregate(results):
    """One row per (workload, framework): with --repeat R, the median over the R runs of
    the time and of the peak memory (other fields from the run with the median time)."""
    groups = {}
    for r in results:
        groups.setdefault((r["workload"], r["framework"]), []).append(r)
    rows = []
    for (w, f), runs in groups.items():
        good = [r for r in runs if r.get("ok")]
        if not good:
            rows.append(runs[-1])
            continue
        if len(good) == 1 and len(runs) == 1:
            rows.append(good[0])
            continue
        good_sorted = sorted(good, key=lambda r: r["seconds"])
        row = dict(good_sorted[(len(good_sorted) - 1) // 2])
        row["seconds"] = statistics.median(r["seconds"] for r in good)
        row["peak_mib"] = statistics.median(r["peak_mib"] for r in good)
        if row.get("unit") == "us/step":
            row["us_per_step"] = row["seconds"] * 1e6
        elif "images_per_s" in row:
            row["images_per_s"] = row["n_images"] / row["seconds"]
        if "pipeline_images_per_s" in row:
            row["pipeline_images_per_s"] = statistics.median(
                r["pipeline_images_per_s"] for r in good)
            row["fit_images_per_s"] = row["n_train"] / row["seconds"]
        if row.get("first_epoch_s") is not None:
            row["first_epoch_s"] = statistics.median(r["first_epoch_s"] for r in good)
        row["n_runs"] = len(good)
        row["n_failed"] = len(runs) - len(good)
        accs = [r["final_val_acc"] for r in good if r.get("final_val_acc") is not None]
        seeds = sorted({r.get("seed") for r in good})
        if len(seeds) > 1 and accs:    # several seeds: the accuracy is a spread, not one run's
            row["final_val_acc"] = statistics.median(accs)
            row["val_acc_range"] = (min(accs), max(accs))
            row["seeds"] = seeds
        rows.append(row)
    return rows


def format_table(results, header_note=""):
    results = aggregate(results)
    idx = _by(results)
    cols = ["workload", "framework", "time (fit: train+val s/epoch, median ep 2..N)", "ep1 s", "peak MiB", "val acc",
            "t mb/keras", "t mb/torch", "mem mb/keras", "mem mb/torch", "note"]
    rows = []
    for r in results:
        w, f = r["workload"], r["framework"]
        ok = r.get("ok")
        note = ""
        tk = tt = mk = mt = ""
        if f == "mitbadak" and ok:
            k, t = idx.get((w, "keras")), idx.get((w, "torch"))
            k = k if k and k.get("ok") else None
            t = t if t and t.get("ok") else None
            tk = _ratio(r["seconds"], k and k["seconds"])
            tt = _ratio(r["seconds"], t and t["seconds"])
            mk = _ratio(r["peak_mib"], k and k["peak_mib"])
            mt = _ratio(r["peak_mib"], t and t["peak_mib"])
        if f == "naive_numpy" and ok:
            if r.get("extrapolated"):
                note = f"extrapolated: {r['measured_train_steps']} steps of {r['steps_per_epoch']}"
            m = idx.get((w, "mitbadak"))
            if m and m.get("ok"):
                note += (", " if note else "") + f"mitbadak {r['seconds'] / m['seconds']:.1f}x faster"
        if not ok:
            note = (r.get("error") or "")[:70]
        if r.get("n_runs"):
            note += (", " if note else "") + f"median of {r['n_runs']} runs" + (
                f" ({r['n_failed']} failed)" if r.get("n_failed") else "")
        if r.get("val_acc_range"):
            lo, hi = r["val_acc_range"]
            note += (f", val acc median over seeds {','.join(map(str, r['seeds']))}: "
                     f"min {lo:.4f}, max {hi:.4f}")
        if ok and r.get("pipeline_images_per_s"):
            p_, f_ = r["pipeline_images_per_s"], r["fit_images_per_s"]
            note += (", " if note else "") + (f"pipeline {p_:.0f} img/s = {p_ / f_:.1f}x "
                                              f"fit's {f_:.1f} img/s")
        if ok and r.get("unit") == "s/epoch" and r.get("timer_includes_validation") is False:
            note += (", " if note else "") + "epoch timer excl. validation?"
        acc = r.get("final_val_acc")
        if acc is None and r.get("partial_val_acc") is not None:
            acc_s = f"({r['partial_val_acc']:.3f})"
        else:
            acc_s = f"{acc:.4f}" if acc is not None else "-"
        ep1 = r.get("first_epoch_s")
        rows.append([w, f, _fmt_time(r),
                     f"{ep1:.2f}" if ep1 is not None and not r.get("extrapolated") else "-",
                     f"{r['peak_mib']:.0f}" if r.get("peak_mib") else "-",
                     acc_s, tk or "", tt or "", mk or "", mt or "", note])
    widths = [max(len(c), *(len(row[i]) for row in rows)) if rows else len(c)
              for i, c in enumerate(cols)]
    line = lambda cells: "| " + " | ".join(c.ljust(widths[i]) for i, c in enumerate(cells)) + " |"
    out = [line(cols), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    for row in rows:
        out.append(line(row))
    legend = LEGEND
    if header_note:
        legend = header_note + "\n" + legend
    return "\n".join(out) + "\n" + legend


LEGEND = """\
time: fit workloads = seconds per epoch of model.fit (training + that epoch's validation
      pass on the validation set, as Keras's fit does; timed from on_epoch_begin to
      on_epoch_end), MEDIAN OVER EPOCHS 2..N (with the default 2 CNN epochs: epoch 2
      only); * = naive_numpy estimate extrapolated from a limited number of timed steps.
      cnn_predict = model.predict throughput on the test images (batch 32, fresh weights,
      median of passes after a warm-up call). xor_step = median wall time of one
      model.train_on_batch(x, y) (torch: one hand-written step incl. loss.item()).
ep1 s: first epoch (includes one-off warm-up such as graph tracing); not in the median.
peak MiB: max RSS of the child process (ru_maxrss), framework import included.
val acc: validation accuracy after the last epoch ((x) = naive_numpy after its few steps);
      with --seeds, the median over the seeds (min and max in the note).
t mb/X, mem mb/X: mitbadak time (per epoch / per image / per step) and peak memory divided
      by peer X's, from this same run: < 1 means mitbadak is faster / smaller."""


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m benchmarks",
                                description="mitbadak vs Keras/TensorFlow vs PyTorch on MNIST")
    p.add_argument("--workloads", default=",".join(list(WORKLOADS) + list(tuner_rows.ROWS)),
                   help="comma-separated, from: " + ", ".join(list(WORKLOADS)
                                                              + list(tuner_rows.ROWS)))
    p.add_argument("--frameworks", default=",".join(ALL_FRAMEWORKS),
                   help="comma-separated, from: " + ", ".join(ALL_FRAMEWORKS)
                   + " (naive_numpy only runs the cnn_* workloads)")
    p.add_argument("--epochs", type=int, default=None,
                   help="epochs for every fit workload (default: 5 for MLPs, 2 for CNNs)")
    p.add_argument("--quick", action="store_true",
                   help="fewer samples/epochs/steps (2 epochs, 12k/3k MLP and 4k/1k CNN "
                        "train/val samples, 2k predict images, 300 xor steps)")
    p.add_argument("--json", default=None, help="write all results to this JSON file")
    p.add_argument("--threads", type=int, default=None,
                   help="pin every framework to N threads (default: leave each "
                        "framework's own default thread settings untouched)")
    p.add_argument("--repeat", type=int, default=1,
                   help="run every (workload, framework) R times, interleaving the "
                        "frameworks (m, k, t, m, k, t, ...); the table shows medians")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--seeds", default=None,
                   help="comma-separated seeds, e.g. 0,1,2,3,4: every (workload, framework) "
                        "runs once per seed (frameworks interleaved); the table shows median "
                        "time and the median, min and max validation accuracy")
    p.add_argument("--naive-steps", type=int, default=None,
                   help="timed training steps for naive_numpy (default 30; 8 with --quick)")
    p.add_argument("--timeout", type=float, default=3600.0, help="seconds per child run")
    p.add_argument("--keras-python", default=None,
                   help="the Python interpreter that runs the Keras children (one with "
                        "tensorflow installed; default: env MITBADAK_BENCH_KERAS_PYTHON, else "
                        "this interpreter)")
    args = p.parse_args(argv)
    global KERAS_PYTHON
    if args.keras_python:
        KERAS_PYTHON = args.keras_python

    workloads = [w.strip() for w in args.workloads.split(",") if w.strip()]
    frameworks = [f.strip() for f in args.frameworks.split(",") if f.strip()]
    # The hyperparameter-search rows (benchmarks/tuner.py) are mitbadak-only: own table.
    tuner_workloads = [w for w in workloads if w in tuner_rows.ROWS]
    workloads = [w for w in workloads if w not in tuner_rows.ROWS]
    for w in workloads:
        if w not in WORKLOADS:
            p.error(f"unknown workload {w!r}; choose from {', '.join(WORKLOADS)}")
    for f in frameworks:
        if f not in ALL_FRAMEWORKS:
            p.error(f"unknown framework {f!r}; choose from {', '.join(ALL_FRAMEWORKS)}")

    notes = []
    usable = []
    for f in frameworks:
        ok, why = _available(f)
        if ok:
            usable.append(f)
        else:
            notes.append(why)
            print("note: " + why, file=sys.stderr)

    meta = dict(argv=sys.argv[1:] if argv is None else list(argv),
                started=_dt.datetime.now().isoformat(timespec="seconds"),
                host=platform.node(), cpu_count=os.cpu_count(), cpu_model=cpu_model(),
                openblas_coretype=os.environ.get("OPENBLAS_CORETYPE"), load_start=_load(),
                python=platform.python_version(),
                quick=args.quick, threads=args.threads or "framework defaults", repeat=args.repeat,
                epochs=args.epochs, seed=args.seed, seeds=args.seeds, notes=notes,
                keras_python=KERAS_PYTHON)
    results = []
    if args.seeds:
        try:
            seeds = [int(x) for x in args.seeds.split(",") if x.strip()]
        except ValueError:
            p.error(f"--seeds takes comma-separated integers; got {args.seeds!r}")
    else:
        seeds = [args.seed]
    jobs = [(w, f, s) for w in workloads for s in seeds for _ in range(max(1, args.repeat))
            for f in usable if _applies(w, f)]
    t_all = time.perf_counter()
    for i, (w, f, s) in enumerate(jobs, 1):
        tag = f" (seed {s})" if len(seeds) > 1 else ""
        print(f"[{i}/{len(jobs)}] {w} / {f}{tag} ...", end=" ", file=sys.stderr, flush=True)
        r = run_one(w, f, args, seed=s)
        results.append(r)
        if r.get("ok"):
            print(f"{_fmt_time(r)}, peak {r['peak_mib']:.0f} MiB ({r['parent_wall_s']:.0f} s)",
                  file=sys.stderr, flush=True)
        else:
            print(f"FAILED: {r.get('error')}", file=sys.stderr, flush=True)
            tail = (r.get("traceback") or r.get("stderr_tail") or "").strip().splitlines()[-12:]
            for ln in tail:
                print("    " + ln, file=sys.stderr)
        if args.json:
            _write_json(args.json, meta, results)
    meta["total_s"] = time.perf_counter() - t_all
    meta["load_end"] = _load()

    tuner_results = []
    for i, w in enumerate(tuner_workloads, 1):
        print(f"[tuner {i}/{len(tuner_workloads)}] {w} ...", end=" ", file=sys.stderr,
              flush=True)
        r = tuner_rows.run_in_child(w, args.quick, _child_env(args.threads), REPO_ROOT,
                                    args.timeout)
        tuner_results.append(r)
        print("ok" if r.get("ok") else f"FAILED: {r.get('error')}", file=sys.stderr,
              flush=True)
        if args.json:
            _write_json(args.json, meta, results + tuner_results)
    meta["total_s"] = time.perf_counter() - t_all

    versions = {}
    for r in sorted(results, key=lambda r: r.get("framework") != "mitbadak"):  # its BLAS first
        for k, v in (r.get("versions") or {}).items():
            versions.setdefault(k, v)
    meta["versions"] = versions
    if args.json:
        _write_json(args.json, meta, results)

    ver = ", ".join(f"{k} {v}" for k, v in versions.items() if k != "blas")
    head = (f"# {'QUICK ' if args.quick else ''}run {meta['started']}, {os.cpu_count()} CPUs, "
            f"threads: {meta['threads']}; {ver}")
    blas = "; ".join(versions.get("blas") or ["not reported (threadpoolctl missing)"])
    forced = meta["openblas_coretype"]
    machine = (f"# CPU: {meta['cpu_model']}, {os.cpu_count()} CPUs; NumPy's BLAS: {blas}"
               + (f" (OPENBLAS_CORETYPE={forced} set in the environment)" if forced else "")
               + f"; load average {meta['load_start']:.2f} at the start, "
                 f"{meta['load_end']:.2f} at the end")
    print()
    print(head)
    print(machine)
    if results:
        print(format_table(results))
    if tuner_results:
        print(tuner_rows.format_rows(tuner_results))
    for n in notes:
        print("note: " + n)
    return 0 if all(r.get("ok") for r in results + tuner_results) else 1


def _write_json(path, meta, results):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(dict(meta=meta, results=results), f, indent=1, default=repr)
    os.replace(tmp, path)
