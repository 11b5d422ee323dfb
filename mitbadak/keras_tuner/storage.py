"""Where a search lives: which Optuna storage, opened how.

In order: the tuner's ``storage=`` argument (a URL or an Optuna storage object), the
environment variable ``MITBADAK_TUNER_STORAGE``, and by default an SQLite file
``directory/project_name/study.db`` (nothing to start). A URL names a database that every
worker can reach (``postgresql://user:password@host/db``, ``mysql+pymysql://...``), or a journal
file on a shared disk (``journal:///shared/search.log``).

Databases get Optuna's heartbeats: a running trial writes one every ``heartbeat_interval``
seconds, and a trial silent for ``grace_period`` seconds (its worker died) is marked failed by
the next worker that looks. Journal files have no heartbeats in Optuna, so there a killed
worker's trial stays RUNNING.
"""
from __future__ import annotations

import contextlib
import os
import re
import warnings
from typing import Any

import optuna
import sqlalchemy           # Optuna's database layer; the default storage always needs it
import sqlalchemy.exc

ENV_STORAGE = "MITBADAK_TUNER_STORAGE"
ENV_HEARTBEAT = "MITBADAK_TUNER_HEARTBEAT_INTERVAL"
ENV_GRACE = "MITBADAK_TUNER_GRACE_PERIOD"
DEFAULT_HEARTBEAT = 10.0     # seconds between heartbeats of a running trial
DEFAULT_GRACE = 60.0         # silence after which a running trial is declared dead
SQLITE_FILE = "study.db"


def masked(url: str) -> str:
    """The URL with its password replaced by ***, for messages."""
    return re.sub(r"(://[^:/@]+:)[^@]*@", r"\1***@", url)


def _seconds(value: Any, env: str, default: float, what: str) -> float:
    if value is None:
        value = os.environ.get(env) or default
    try:
        value = float(value)
    except ValueError:
        raise ValueError(f"{what} must be a number of seconds; got {value!r} "
                         f"(from {env}?).") from None
    if value <= 0:
        raise ValueError(f"{what} must be > 0 seconds; got {value}.")
    return value


def _stale_callback(max_retries: int) -> Any:
    """Optuna's callback that queues a dead worker's trial again (same hyperparameters)."""
    cls = getattr(optuna.storages, "RetryHeartbeatStaleTrialCallback", None) \
        or optuna.storages.RetryFailedTrialCallback
    with quiet():
        return cls(max_retry=max_retries)


def _rdb(url: str, heartbeat: float, grace: float, max_retries: int) -> Any:
    engine_kwargs: dict = {}
    if url.startswith("sqlite"):
        # Workers on one file wait for each other's writes rather than failing at once.
        engine_kwargs["connect_args"] = {"timeout": 60}
    else:
        engine_kwargs["pool_pre_ping"] = True          # survive a restarted server
    callback_kw = ("heartbeat_stale_trial_callback"
                   if hasattr(optuna.storages, "RetryHeartbeatStaleTrialCallback")
                   else "failed_trial_callback")
    kwargs = {"heartbeat_interval": heartbeat, "grace_period": grace}
    if max_retries > 0:
        kwargs[callback_kw] = _stale_callback(max_retries)
    with quiet():        # heartbeats are flagged experimental by Optuna
        rdb = optuna.storages.RDBStorage(url, engine_kwargs=engine_kwargs, **kwargs)
    if url.startswith("sqlite"):
        _write_ahead_log(rdb)
    return rdb


def _rdb_when_others_create_it_too(url: str, heartbeat: float, grace: float,
                                   max_retries: int) -> Any:
    """Workers started together on an empty database all create Optuna's tables; the losers
    of that race get an integrity error from the server. The tables exist then: try again."""
    import random
    import threading

    for attempt in range(6):
        try:
            return _rdb(url, heartbeat, grace, max_retries)
        except (sqlalchemy.exc.IntegrityError, sqlalchemy.exc.ProgrammingError,
                sqlalchemy.exc.OperationalError) as err:
            raced = not isinstance(err, sqlalchemy.exc.OperationalError) \
                or "already exists" in str(err)       # SQLite's word for the same race
            if attempt == 5 or not raced:
                raise
            threading.Event().wait(random.uniform(0.1, 0.5))


def _write_ahead_log(rdb: Any) -> None:
    """SQLite in WAL mode with synchronous=NORMAL: a commit appends to the log without
    waiting for the disk (~7 ms -> well under 1 ms here, ~10 commits per trial), readers do
    not block the writer, and a killed process loses nothing it committed (a power cut may
    lose the last commits, never the file). WAL needs a local disk: for a shared folder use
    a database server or a journal file."""

    def pragmas(connection: Any, _record: Any) -> None:
        cursor = connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    sqlalchemy.event.listen(rdb.engine, "connect", pragmas)
    rdb.engine.dispose()             # connections opened before the listener are dropped


def open_storage(storage: Any, project_dir: str, heartbeat_interval: Any = None,
                 grace_period: Any = None, max_retries_per_trial: int = 0) -> tuple[Any, str]:
    """(an Optuna storage, a short description for messages)."""
    if storage is None:
        storage = os.environ.get(ENV_STORAGE) or None
    if storage is not None and not isinstance(storage, str):
        return storage, type(storage).__name__          # the user's own storage object
    heartbeat = _seconds(heartbeat_interval, ENV_HEARTBEAT, DEFAULT_HEARTBEAT,
                         "heartbeat_interval")
    grace = _seconds(grace_period, ENV_GRACE, DEFAULT_GRACE, "grace_period")
    if grace <= heartbeat:
        raise ValueError(f"grace_period ({grace} s) must be longer than heartbeat_interval "
                         f"({heartbeat} s), or live trials would be declared dead.")
    if storage is None:
        os.makedirs(project_dir, exist_ok=True)
        path = os.path.abspath(os.path.join(project_dir, SQLITE_FILE))
        if not os.path.exists(path):
            # WAL before Optuna creates its tables (a dozen commits); the mode stays with
            # the file.
            import sqlite3
            with contextlib.closing(sqlite3.connect(path)) as conn:
                conn.execute("PRAGMA journal_mode=WAL")
        url = "sqlite:///" + path
    else:
        url = storage
    if url.startswith("journal:"):
        path = url[len("journal:"):]
        path = path[2:] if path.startswith("//") else path
        if not path:
            raise ValueError(f"storage={url!r}: give the journal file, e.g. "
                             f"'journal:///shared/search.log'.")
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        backend = optuna.storages.journal.JournalFileBackend(path)
        return optuna.storages.JournalStorage(backend), f"journal file {path}"
    try:
        rdb = _rdb_when_others_create_it_too(url, heartbeat, grace, max_retries_per_trial)
    except ImportError as err:          # Optuna's words for a missing database driver
        hint = ("pip install 'mitbadak[tune-pg]' (psycopg; or name another driver in the URL, "
                "e.g. postgresql+psycopg2://...)" if url.startswith("postgres")
                else "install the database driver that the URL names (e.g. "
                     "mysql+pymysql:// needs pymysql)")
        raise ImportError(f"The tuner's storage {masked(url)} needs a database driver that is "
                          f"not installed: {hint}.") from err
    except Exception as err:
        raise ConnectionError(
            f"Could not open the tuner's storage {masked(url)}: {type(err).__name__}: "
            f"{str(err).strip().splitlines()[0] if str(err).strip() else ''}. Check that the "
            f"database server is running and reachable from this machine, and the URL's user, "
            f"password, host, port and database name (create the database first, e.g. "
            f"`createdb NAME`); or unset storage= / {ENV_STORAGE} to use a local SQLite file."
        ) from err
    where = "SQLite file " + url[len("sqlite:///"):] if url.startswith("sqlite") else masked(url)
    return rdb, where


def heartbeat_interval(storage: Any) -> float | None:
    """The storage's heartbeat interval, or None when it has no heartbeats."""
    get = getattr(storage, "get_heartbeat_interval", None)
    return get() if get is not None else None


class quiet:
    """Silence Optuna's experimental-feature warnings and its per-trial INFO lines (the tuner
    prints its own progress)."""

    def __enter__(self) -> None:
        self._w = warnings.catch_warnings()
        self._w.__enter__()
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        warnings.filterwarnings("ignore", message=".*GridSampler.*")
        # Optuna warns that heartbeats are meant for study.optimize; the oracle runs them
        # itself (see _Heartbeat), the ask/tell way.
        warnings.filterwarnings("ignore", message="Heartbeat of storage")
        self._level = optuna.logging.get_verbosity()
        optuna.logging.set_verbosity(optuna.logging.WARNING)

    def __exit__(self, *exc: Any) -> None:
        optuna.logging.set_verbosity(self._level)
        self._w.__exit__(*exc)


