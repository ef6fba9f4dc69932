"""The ``fem-stt`` command line: check and run case files (see :mod:`fem_stt.config`).

    fem-stt check CASE.toml                 # validate (no meshing) and print a summary
    fem-stt run CASE.toml [--output DIR] [--overwrite | --resume] [--no-progress] [-v]
    mpirun -n 2 fem-stt run CASE.toml       # the same on 2 MPI ranks (rank 0 prints)
    fem-stt --version

Exit status: 0 on success, 2 for bad input (an invalid case file, an output folder that
already holds results, a missing file; the message "error: ..." names the key), 1 when a
solver fails, 130 when interrupted (resume with ``--resume``).
"""
from __future__ import annotations

import argparse
import logging
import sys
from typing import List, Optional

from . import __version__
from .errors import MeshError, ParameterError, SolverError

log = logging.getLogger("fem_stt.cli")


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("-v", "--verbose", action="store_true", help="more log output (DEBUG)")
    ap = argparse.ArgumentParser(
        prog="fem-stt", description="Finite-element spin-transfer torque: check and run TOML case files.",
        epilog="Example cases: demos/cases/*.toml. Errors exit with status 2 and name the key of the case file.")
    ap.add_argument("--version", action="version", version=f"fem-stt {__version__}")
    sub = ap.add_subparsers(dest="command", metavar="COMMAND")
    ck = sub.add_parser("check", parents=[common], help="validate a case file (no meshing) and print a summary",
                        description="Parse and validate a case file (units, ranges, cross-references) without "
                                    "meshing or assembling; print a short summary and OK.")
    ck.add_argument("case", metavar="CASE.toml")
    rn = sub.add_parser("run", parents=[common], help="run a case file",
                        description="Mesh, build the simulation, relax (if asked), run to t_end or the stop "
                                    "criterion, and write m.xdmf, scalars.csv, summary.json and case.toml.")
    rn.add_argument("case", metavar="CASE.toml")
    rn.add_argument("--output", metavar="DIR", default=None,
                    help="output folder (default: output.dir of the case, else results/<name>_<UTC time>)")
    g = rn.add_mutually_exclusive_group()
    g.add_argument("--overwrite", action="store_true", help="replace the results in an output folder that has some")
    g.add_argument("--resume", action="store_true",
                   help="continue the run in the output folder from its checkpoint (up to the case's t_end)")
    rn.add_argument("--mesh-dir", metavar="DIR", default="meshes",
                    help="folder for the generated meshes (default: meshes)")
    rn.add_argument("--no-progress", action="store_true", help="no progress bar")
    return ap


def main(argv: Optional[List[str]] = None) -> int:
    """Entry point of ``fem-stt``; returns the exit status."""
    ap = _parser()
    args = ap.parse_args(argv)
    if args.command is None:
        ap.print_help(sys.stderr)
        return 2
    from mpi4py import MPI

    from .io import setup_logging
    comm = MPI.COMM_WORLD
    setup_logging(comm, logging.DEBUG if args.verbose else logging.INFO)

    def say(msg, stream=sys.stdout):
        if comm.rank == 0:
            print(msg, file=stream, flush=True)
    try:
        from .config import load_case
        case = load_case(args.case)
        if args.command == "check":
            say(case.describe())
            say("OK")
            return 0
        case.run(comm, output=args.output, overwrite=args.overwrite, resume=args.resume,
                 progress=not args.no_progress, mesh_dir=args.mesh_dir)
        return 0
    except (ParameterError, MeshError, FileExistsError, FileNotFoundError) as e:
        say(f"error: {e}", sys.stderr)
        return 2
    except SolverError as e:
        say(f"error: {e}", sys.stderr)
        return 1
    except KeyboardInterrupt:
        say("interrupted; continue with: fem-stt run CASE.toml --output DIR --resume", sys.stderr)
        return 130


if __name__ == "__main__":  # python -m fem_stt.cli
    sys.exit(main())
