"""Several worker processes of one script share a study; one is SIGKILLed mid-trial.

PostgreSQL: a throw-away server (initdb into a temporary folder, pg_ctl start on 127.0.0.1,
as the `postgres` user when run as root), 3 workers. SQLite: the default study file, 2 workers.
Afterwards the study holds exactly max_trials COMPLETE trials with distinct values, none
RUNNING, and the surviving workers report the same best trial.
"""
from __future__ import annotations

import glob
import json
import os
import pwd
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

optuna = pytest.importorskip("optuna", reason="the tune extra (Optuna) is not installed")

ROOT = Path(__file__).resolve().parents[2]
WORKER = Path(__file__).with_name("tuner_worker.py")
MAX_TRIALS = 6
TIMEOUT = int(os.environ.get("TUNER_TEST_TIMEOUT", "180"))          # seconds: a hung worker fails the test instead of hanging CI


def _pg_bin(name: str) -> str | None:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return found[-1] if found else shutil.which(name)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def postgres_url():
    """A fresh PostgreSQL server for this test; yields a database URL; removed afterwards."""
    initdb, pg_ctl = _pg_bin("initdb"), _pg_bin("pg_ctl")
    if not initdb or not pg_ctl:
        pytest.skip("no PostgreSQL server program (initdb/pg_ctl) on this machine; on Debian: "
                    "apt-get install postgresql")
    # Where the server exists, the test runs: a missing driver or user is a failure.
    try:
        import psycopg
    except ImportError:
        pytest.fail("PostgreSQL is installed but its driver is not: pip install "
                    "'mitbadak[tune-pg]' (or the test extra)")
    as_user: list[str] = []
    if os.geteuid() == 0:            # the server refuses to run as root
        try:
            user = pwd.getpwnam("postgres")
        except KeyError:
            pytest.fail("running as root and there is no 'postgres' user to run the "
                        "PostgreSQL server as (Debian's postgresql package creates it)")
    folder = tempfile.mkdtemp(prefix="mitbadak-pg-")
    if os.geteuid() == 0:
        os.chown(folder, user.pw_uid, user.pw_gid)
        as_user = ["runuser", "-u", "postgres", "--"]
    data, port = os.path.join(folder, "data"), _free_port()
    run = dict(check=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120)
    subprocess.run(as_user + [initdb, "-D", data, "-A", "trust", "-U", "postgres",
                              "--no-sync"], **run)
    options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off"
    subprocess.run(as_user + [pg_ctl, "-D", data, "-o", options, "-l",
                              os.path.join(folder, "log"), "-w", "start"], **run)
    try:
        with psycopg.connect(host="127.0.0.1", port=port, user="postgres", dbname="postgres",
                             autocommit=True) as conn:
            conn.execute("CREATE DATABASE tuner")
        yield f"postgresql://postgres@127.0.0.1:{port}/tuner"
    finally:
        subprocess.run(as_user + [pg_ctl, "-D", data, "-m", "immediate", "-w", "stop"],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120)
        shutil.rmtree(folder, ignore_errors=True)


def _start(env: dict, hold_fd: int | None = None) -> subprocess.Popen:
    env = dict(env)
    if hold_fd is not None:
        env["TUNER_HOLD_FD"] = str(hold_fd)
    return subprocess.Popen([sys.executable, str(WORKER)], env=env, cwd=str(ROOT),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            pass_fds=() if hold_fd is None else (hold_fd,))


def _run_search(tmp_path: Path, workers: int, storage: str | None, heartbeat: str,
                grace: str) -> None:
    env = {k: v for k, v in os.environ.items() if k != "MITBADAK_TUNER_STORAGE"}
    env.update(PYTHONPATH=str(ROOT), TUNER_DIR=str(tmp_path), TUNER_MAX_TRIALS=str(MAX_TRIALS),
               MITBADAK_TUNER_HEARTBEAT_INTERVAL=heartbeat,
               MITBADAK_TUNER_GRACE_PERIOD=grace, OMP_NUM_THREADS="1",
               OPENBLAS_NUM_THREADS="1")
    if storage:
        env["MITBADAK_TUNER_STORAGE"] = storage
    read_end, write_end = os.pipe()
    doomed = _start(env, write_end)
    os.close(write_end)
    procs, others = [doomed], []
    try:
        # Wait until the doomed worker is inside its first trial (else the others might
        # finish the search before it gets one), start the others, and kill it there.
        ready, _, _ = select.select([read_end], [], [], TIMEOUT)
        if not (ready and os.read(read_end, 100)):
            doomed.kill()
            raise AssertionError("the worker never reached its first epoch:\n"
                                 + "\n".join(doomed.communicate(timeout=TIMEOUT)))
        others = [_start(env) for _ in range(workers - 1)]
        procs += others
        doomed.send_signal(signal.SIGKILL)
        doomed.wait(TIMEOUT)
        outputs = []
        for p in others:
            out, err = p.communicate(timeout=TIMEOUT)
            assert p.returncode == 0, f"a surviving worker failed:\n{out}\n{err}"
            outputs.append(out)
    finally:
        os.close(read_end)
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()

    study = optuna.load_study(study_name="dist",
                              storage=storage or f"sqlite:///{tmp_path}/dist/study.db")
    trials = study.get_trials(deepcopy=False)
    states = [t.state for t in trials]
    complete = [t for t in trials if t.state == optuna.trial.TrialState.COMPLETE]
    assert len(complete) == MAX_TRIALS, [(t.number, t.state.name, t.user_attrs) for t in trials]
    assert optuna.trial.TrialState.RUNNING not in states
    values = [json.dumps(t.user_attrs["result"]["hyperparameters"], sort_keys=True) for t in complete]
    assert len(set(values)) == MAX_TRIALS, values
    # The killed worker's trial (and the next one it had claimed while training, if it got
    # there) was failed by a heartbeat check, not left behind.
    killed = [t for t in trials if t.state == optuna.trial.TrialState.FAIL
              and not t.user_attrs.get("resigned")]
    assert 1 <= len(killed) <= 2
    bests = [json.loads(line[5:]) for out in outputs for line in out.splitlines()
             if line.startswith("BEST ")]
    assert len(bests) == workers - 1
    assert all(b == bests[0] for b in bests), bests
    # ... and it is the study's best, by an independent reading of the study.
    top = max(complete, key=lambda t: (t.value, -t.number))
    assert bests[0]["score"] == pytest.approx(top.value)
    assert bests[0]["values"] == top.user_attrs["result"]["hyperparameters"]


def test_three_workers_on_postgresql_one_killed(tmp_path, postgres_url):
    _run_search(tmp_path, 3, postgres_url, heartbeat="0.5", grace="2")


def test_two_workers_on_the_default_sqlite_file_one_killed(tmp_path):
    # SQLite's clock has 1 s steps, so the grace period is a few seconds.
    _run_search(tmp_path, 2, None, heartbeat="1", grace="3")
