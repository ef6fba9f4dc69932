#!/usr/bin/env bash
# One command: set everything up (idempotent) and run the whole test suite; the MPI
# part runs under 'mpirun -n 2' from inside the tests (tests/test_parallel.py).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
bash scripts/setup.sh
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
exec .venv/bin/python -m pytest "$@"
