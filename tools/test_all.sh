#!/usr/bin/env bash
# Everything the whole test suite needs, then the test command (python -m pytest -q):
#   - the `test` extra (pytest, h5py, matplotlib, IPython, Pillow, pandas, Optuna, psycopg),
#   - Keras 3 with jax (its NumPy backend imports jax.lax): the interop tests run real Keras
#     on the files mitbadak writes,
#   - PostgreSQL's server programs (initdb, pg_ctl): the distributed tuner test starts a
#     throw-away server of its own; installed with apt-get when missing and we are root.
# Extra arguments go to pytest. CI (.ci/run) runs this in a fresh virtual environment.
set -euo pipefail
cd "$(dirname "$0")/.."
python -m pip install --quiet -e ".[test]" "keras>=3.5" jax
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && ! command -v initdb >/dev/null; then
    if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql
    else
        echo "note: no PostgreSQL server programs here and no root to install them" \
             "(apt-get install postgresql): the PostgreSQL tuner test will skip." >&2
    fi
fi
export KERAS_BACKEND="${KERAS_BACKEND:-numpy}"     # Keras 3 in the interop subprocesses
python -m pytest -q "$@"
