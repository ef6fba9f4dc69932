#!/usr/bin/env bash
# One command: set everything up (idempotent) and run the main demo on 2 MPI ranks.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
bash scripts/setup.sh
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
exec mpirun -n 2 .venv/bin/python demos/spin_valve.py "$@"
