"""Runs ONE (workload, framework) pair in a fresh interpreter and prints one JSON line.

    python -m benchmarks.child --workload mlp_relu_adam --framework keras [--quick] ...

The line starts with ``BENCH_RESULT `` and is what the parent (benchmarks.runner)
collects.  Peak memory = ``resource.getrusage(RUSAGE_SELF).ru_maxrss`` at the end of the
run (KiB on Linux), i.e. this process's max resident set size, framework import
included.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sys
import time
import traceback

import numpy as np

from . import data
from .workloads import FULL, QUICK, WORKLOADS

MARKER = "BENCH_RESULT "


def _rss_mib(field="VmRSS"):
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return None


def _cpu_stat():
    """(total jiffies, steal jiffies) of the whole machine, from /proc/stat (Linux only)."""
    try:
        with open("/proc/stat") as f:
            vals = [int(v) for v in f.readline().split()[1:]]
        return sum(vals), (vals[7] if len(vals) > 7 else 0)
    except (OSError, ValueError):
        return None


def _peak_mib():
    r = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return r / 1024.0 if sys.platform != "darwin" else r / (1024.0 * 1024.0)


def _apply_threads(framework, n):
    """Only with --threads N (the parent also sets OMP/MKL/OPENBLAS_NUM_THREADS)."""
    if not n:
        return
    if framework == "torch":
        import torch
        torch.set_num_threads(n)
        torch.set_num_interop_threads(1)
    elif framework == "keras":
        import tensorflow as tf
        tf.config.threading.set_intra_op_parallelism_threads(n)
        tf.config.threading.set_inter_op_parallelism_threads(1)
    else:
        try:
            from threadpoolctl import threadpool_limits
            threadpool_limits(n)
        except ImportError:
            pass


def _import_framework(framework):
    """Returns (keras-like module or None, versions dict)."""
    versions = {"python": platform.python_version(), "numpy": np.__version__}
    km = None
    if framework == "keras":
        import tensorflow as tf
        km = tf.keras
        versions["tensorflow"] = tf.__version__
        import keras as _k
        versions["keras"] = getattr(_k, "__version__", "?")
    elif framework == "mitbadak":
        import mitbadak
        from mitbadak import keras as km
        versions["mitbadak"] = getattr(mitbadak, "__version__", "?")
        versions["mitbadak_threads"] = (os.environ.get("MITBADAK_THREADS")
                                        or os.environ.get("MITBADAK_BLAS_THREADS")
                                        or str(getattr(mitbadak.backend, "_THREADS", "?")))
    elif framework == "torch":
        import torch
        versions["torch"] = torch.__version__
        versions["torch_threads"] = torch.get_num_threads()
    elif framework == "naive_numpy":
        pass
    else:
        raise ValueError(framework)
    try:
        from threadpoolctl import threadpool_info
        # the kernels OpenBLAS runs (its 'architecture'), which decide its speed
        versions["blas"] = [f"{d.get('internal_api')} {d.get('version')} "
                            f"{d.get('architecture')} kernels, threads={d.get('num_threads')}"
                            for d in threadpool_info() if d.get("user_api") == "blas"]
    except Exception:
        pass
    return km, versions


def run(args):
    spec = WORKLOADS[args.workload]
    sizes = QUICK if args.quick else FULL
    out = dict(workload=args.workload, framework=args.framework, quick=bool(args.quick),
               kind=spec["kind"], ok=False)
    t_start = time.perf_counter()
    _apply_threads(args.framework, args.threads)
    km, versions = _import_framework(args.framework)
    out["versions"] = versions
    out["rss_after_import_mib"] = _rss_mib()
    stat0, ru0, w0 = _cpu_stat(), resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()

    if spec["kind"] == "fit":
        cnn = spec.get("cnn", False)
        n_train = sizes.get("cnn_n_train") if (cnn and args.quick) else sizes["n_train"]
        n_val = sizes.get("cnn_n_val") if (cnn and args.quick) else sizes["n_val"]
        if spec.get("text"):
            from .text_data import load_imdb_like
            n_train, n_val = sizes["text_n_train"], sizes["text_n_val"]
            (x_tr, y_tr), (x_val, y_val) = load_imdb_like(
                n_train, n_val, spec["num_words"], one_hot=spec["layout"] == "imdb_onehot")
        elif spec["layout"] == "cifar":
            from .images import cifar_like
            (x_tr, y_tr), (x_val, y_val) = cifar_like(*sizes["cifar_n"])
        else:
            (x_tr, y_tr), (x_val, y_val) = data.load_split(spec["layout"], n_train, n_val)
        epochs = args.epochs or (sizes["cnn_epochs"] if cnn else sizes["mlp_epochs"]) or spec["epochs"]
        bs = spec["batch_size"]
        out.update(n_train=len(x_tr), n_val=len(x_val), batch_size=bs, epochs=epochs)
        out["rss_before_model_mib"] = _rss_mib()
        if args.framework in ("keras", "mitbadak"):
            from .workloads import build_and_fit
            res = build_and_fit(km, args.workload, x_tr, y_tr, x_val, y_val,
                                epochs=epochs, batch_size=bs, seed=args.seed)
        elif args.framework == "torch":
            from . import torch_peer
            res = torch_peer.fit(args.workload, x_tr, y_tr, x_val, y_val,
                                 epochs=epochs, batch_size=bs, seed=args.seed)
        elif args.framework == "naive_numpy":
            if not cnn:
                raise ValueError("naive_numpy only implements the CNN workloads")
            from . import naive_cnn
            res = naive_cnn.fit(x_tr, y_tr, x_val, y_val, epochs=epochs, batch_size=bs,
                                max_steps=args.naive_steps or sizes["naive_steps"],
                                val_batches=sizes["naive_val_batches"], seed=args.seed)
        out.update(res)
        times = res["epoch_times"]
        later = times[1:] if len(times) > 1 else times
        out["sec_per_epoch"] = float(np.median(later))
        out["epochs_in_median"] = "extrapolated" if res.get("extrapolated") else (
            f"{2}..{len(times)}" if len(times) > 1 else "1 (only one epoch)")
        out["first_epoch_s"] = float(times[0])
        out["min_epoch_s"] = float(min(later))  # a less noise-prone alternative, JSON only
        va = res.get("val_acc") or []
        out["final_val_acc"] = float(va[-1]) if va else None
        out["seconds"] = out["sec_per_epoch"]
        out["unit"] = "s/epoch"

    elif spec["kind"] == "folder":
        import tempfile
        from . import images
        if args.framework not in ("keras", "mitbadak"):
            raise ValueError("folder_cnn runs with mitbadak and keras only")
        n_train, n_val = sizes["folder_n"]
        epochs = args.epochs or spec["epochs"]
        with tempfile.TemporaryDirectory(prefix="mitbadak-bench-") as root:
            images.make_png_folder(root, n_train, n_val)     # the same files for everyone
            out["rss_before_model_mib"] = _rss_mib()
            res = images.folder_fit(km, root, epochs=epochs, batch_size=spec["batch_size"],
                                    seed=args.seed)
        out.update(res, n_train=n_train, n_val=n_val, batch_size=spec["batch_size"],
                   epochs=epochs)
        times = res["epoch_times"]
        later = times[1:] if len(times) > 1 else times
        out["sec_per_epoch"] = float(np.median(later))
        out["first_epoch_s"] = float(times[0])
        out["min_epoch_s"] = float(min(later))
        # Pipeline alone: the median of the passes after the first (which warms the cache).
        out["pipeline_images_per_s"] = n_train / float(np.median(res["pipeline_times"][1:]))
        out["fit_images_per_s"] = n_train / out["sec_per_epoch"]
        va = res.get("val_acc") or []
        out["final_val_acc"] = float(va[-1]) if va else None
        out["seconds"] = out["sec_per_epoch"]
        out["unit"] = "s/epoch"

    elif spec["kind"] == "predict":
        n = sizes["predict_n"]
        x_test, _ = data.load_test(spec["layout"], n)
        bs = spec["batch_size"]
        reps = sizes["predict_repeats"]
        out.update(n_test=len(x_test), batch_size=bs)
        out["rss_before_model_mib"] = _rss_mib()
        if args.framework in ("keras", "mitbadak"):
            from .workloads import predict_throughput
            res = predict_throughput(km, x_test, batch_size=bs, repeats=reps, seed=args.seed)
        elif args.framework == "torch":
            from . import torch_peer
            res = torch_peer.predict_throughput(x_test, batch_size=bs, repeats=reps, seed=args.seed)
        else:
            from . import naive_cnn
            res = naive_cnn.predict_throughput(x_test, batch_size=bs, repeats=reps, seed=args.seed)
        out.update(res)
        t = float(np.median(res["pass_times"]))
        out["seconds"] = t                       # one pass over n_test images
        out["images_per_s"] = len(x_test) / t
        out["unit"] = f"s/{len(x_test)} img"

    elif spec["kind"] == "step":
        warm, steps = sizes["xor_warmup"], sizes["xor_steps"]
        out["rss_before_model_mib"] = _rss_mib()
        if args.framework in ("keras", "mitbadak"):
            from .workloads import xor_step_times
            res = xor_step_times(km, warmup=warm, steps=steps, seed=args.seed)
        elif args.framework == "torch":
            from . import torch_peer
            res = torch_peer.xor_step_times(warmup=warm, steps=steps, seed=args.seed)
        else:
            raise ValueError("naive_numpy does not implement xor_step")
        st = np.asarray(res.pop("step_times"))
        out.update(res, warmup=warm, steps=steps)
        out["us_per_step"] = float(np.median(st) * 1e6)
        out["us_p10"] = float(np.percentile(st, 10) * 1e6)
        out["us_p90"] = float(np.percentile(st, 90) * 1e6)
        out["seconds"] = float(np.median(st))
        out["unit"] = "us/step"

    # machine noise indicators for the measured part (after imports): the hypervisor's
    # steal share of all CPU time, and this process's CPU seconds per wall second.
    stat1, ru1, w1 = _cpu_stat(), resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
    if stat0 and stat1 and stat1[0] > stat0[0]:
        out["host_steal_pct"] = 100.0 * (stat1[1] - stat0[1]) / (stat1[0] - stat0[0])
    out["process_cpu_per_wall"] = ((ru1.ru_utime + ru1.ru_stime) - (ru0.ru_utime + ru0.ru_stime)) / (w1 - w0)
    try:
        out["loadavg_end"] = os.getloadavg()[0]
    except OSError:
        pass
    out["wall_s"] = time.perf_counter() - t_start
    out["peak_mib"] = _peak_mib()
    out["ok"] = True
    return out


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m benchmarks.child")
    p.add_argument("--workload", required=True, choices=sorted(WORKLOADS))
    p.add_argument("--framework", required=True,
                   choices=["mitbadak", "keras", "torch", "naive_numpy"])
    p.add_argument("--epochs", type=int, default=None)
    p.add_argument("--quick", action="store_true")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--naive-steps", type=int, default=None)
    args = p.parse_args(argv)
    try:
        out = run(args)
    except BaseException as e:  # report, don't hide
        out = dict(workload=args.workload, framework=args.framework, ok=False,
                   error=f"{type(e).__name__}: {e}",
                   traceback=traceback.format_exc()[-4000:], peak_mib=_peak_mib())
    sys.stdout.flush()
    print(MARKER + json.dumps(out, default=lambda o: repr(o)), flush=True)
    return 0 if out.get("ok") else 1


if __name__ == "__main__":
    sys.exit(main())
