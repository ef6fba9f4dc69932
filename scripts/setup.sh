#!/usr/bin/env bash
# Sets up fem_stt on Debian 12: Debian's DOLFINx/PETSc/MPI/Gmsh stack, a virtual
# environment made from /usr/bin/python3 with --system-site-packages, and the package
# installed into it (editable). Idempotent: each step is skipped when already done.
# Used by ./run_demo.sh, ./run_tests.sh and the containers in containers/.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${FEM_STT_VENV:-$ROOT/.venv}"

PKGS="python3-dolfinx-real python3-petsc4py python3-mpi4py python3-slepc4py python3-gmsh python3-meshio
python3-h5py python3-numpy python3-scipy python3-matplotlib python3-venv python3-pip python3-dev
openmpi-bin build-essential libopenblas0-serial libmumps-seq-dev"
# libopenblas0-serial: an optimized BLAS in place of the reference one (alternatives priority),
# single-threaded so that MPI ranks do not oversubscribe the cores; the FEM-BEM stray field's
# dense mat-vec runs ~10x faster with it. libmumps-seq-dev: MUMPS for Kwant (built from source by pip).

missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  echo "[setup] installing Debian packages:$missing"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing >/dev/null
fi

if [ ! -x "$VENV/bin/python" ]; then
  echo "[setup] creating virtual environment $VENV"
  /usr/bin/python3 -m venv --system-site-packages "$VENV"
fi

stamp="$VENV/.fem_stt_installed"
want="$(sha256sum "$ROOT/pyproject.toml" | cut -d' ' -f1) $ROOT"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "[setup] installing fem_stt into $VENV"
  # Debian's DOLFINx/petsc4py/mpi4py are built against Debian's numpy and scipy: pin both so
  # that no PyPI extra (or its dependencies) replaces them inside the virtual environment.
  "$VENV/bin/python" -c "import numpy, scipy; print(f'numpy=={numpy.__version__}\nscipy=={scipy.__version__}')" \
    > "$VENV/constraints.txt"
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check -c "$VENV/constraints.txt" -e "$ROOT[test]"
  echo "$want" > "$stamp"
fi
"$VENV/bin/python" -c "import dolfinx, gmsh, fem_stt" || { echo "[setup] import check failed" >&2; exit 1; }
