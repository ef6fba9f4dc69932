"""Output: XDMF files for ParaView, run folders that never overwrite silently, line probes.

XDMF (+HDF5) written by DOLFINx opens directly in ParaView ("Xdmf3ReaderS"). Each
file holds the mesh, the cell region tags (``regions``, integer tags; the name -> tag
map is written to ``<stem>.regions.json`` beside it) and the fields, all at vertices
(P1): higher-order fields are interpolated to P1 first, which for Lagrange P2 keeps
the exact vertex values.
"""
from __future__ import annotations

import datetime as _dt
import json
import logging
import os
from pathlib import Path
from typing import Iterable, Optional, Union

import dolfinx
import dolfinx.fem
import dolfinx.geometry
import numpy as np
from mpi4py import MPI

from . import _compat


def setup_logging(comm=MPI.COMM_WORLD, level=logging.INFO):
    """Log ``fem_stt.*`` messages on rank 0 at ``level``; keep other libraries (JIT builds) at WARNING."""
    logging.basicConfig(level=logging.WARNING, format="%(message)s", force=True)
    lg = logging.getLogger("fem_stt")
    lg.setLevel(level if comm.rank == 0 else logging.WARNING)
    return lg


def prepare_output_dir(path: Union[str, Path, None], comm=MPI.COMM_WORLD, overwrite: bool = False,
                       default_root: Union[str, Path] = "results", default_name: str = "run") -> Path:
    """Create and return the output folder of a run.

    ``path=None`` gives a new time-stamped folder ``<default_root>/<default_name>_<UTC time>``
    (never one that exists). An explicit ``path`` that already holds files raises
    ``FileExistsError`` unless ``overwrite=True``: results are never overwritten silently.
    """
    err, out = None, None
    if comm.rank == 0:
        try:
            if path is None:
                stamp = _dt.datetime.utcnow().strftime("%Y%m%d-%H%M%S")
                out = Path(default_root) / f"{default_name}_{stamp}"
                k = 1
                while out.exists():
                    out = Path(default_root) / f"{default_name}_{stamp}_{k}"
                    k += 1
            else:
                out = Path(path)
                if out.exists() and any(out.iterdir()) and not overwrite:
                    raise FileExistsError(f"output folder {out} already holds results; choose another folder or "
                                          f"pass overwrite (--overwrite) to replace them")
            out.mkdir(parents=True, exist_ok=True)
        except Exception as e:
            err = e
    err = comm.bcast(err, root=0)
    if err is not None:
        raise err
    return Path(comm.bcast(str(out), root=0))


def to_p1(f, name: Optional[str] = None):
    """Interpolate a Lagrange function to P1 on the same mesh (identity for P1)."""
    V = f.function_space
    if V.ufl_element().degree() == 1:
        return f
    shape = V.ufl_element().value_shape()
    V1 = _compat.function_space(V.mesh, "CG", 1, shape=shape if shape else None)
    g = dolfinx.fem.Function(V1, name=name or f.name)
    g.interpolate(f)
    return g


class XDMFOutput:
    """An XDMF file with mesh, region tags and (time series of) vertex fields.

    Parameters
    ----------
    path : ``.xdmf`` path (the ``.h5`` goes beside it).
    domain : fem_stt.domain.Domain
    """

    def __init__(self, path: Union[str, Path], domain):
        self.path = Path(path)
        self.domain = domain
        self._file = _compat.xdmf_file(domain.comm, self.path, "w")
        self._file.write_mesh(domain.mesh)
        domain.cell_tags.name = "regions"
        self._file.write_meshtags(domain.cell_tags)
        if domain.comm.rank == 0:
            self.path.with_suffix(".regions.json").write_text(
                json.dumps({"cells": domain.regions, "facets": domain.facet_groups}, indent=2))

    def write(self, functions: Iterable, t: float = 0.0):
        """Write functions (any Lagrange degree; written at vertices) at time ``t`` [s]."""
        for f in functions:
            self._file.write_function(to_p1(f), t)

    def close(self):
        self._file.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def evaluate_points(f, points: np.ndarray) -> np.ndarray:
    """Evaluate ``f`` at ``points`` (shape (n, 3), metres) on every rank.

    Returns an array of shape (n, value_size) with NaN where no cell contains the point.
    Collective: all ranks must call it with the same points.
    """
    mesh = f.function_space.mesh
    points = np.ascontiguousarray(points, dtype=np.float64)
    tree = dolfinx.geometry.BoundingBoxTree(mesh, mesh.topology.dim)
    cand = dolfinx.geometry.compute_collisions(tree, points)
    bs = int(np.prod(f.function_space.ufl_element().value_shape() or (1,)))
    local = np.full((len(points), bs), np.nan)
    nloc = mesh.topology.index_map(3).size_local
    x = mesh.geometry.x
    cell_nodes = mesh.geometry.dofmap.array.reshape(-1, 4)
    idx, cl = [], []
    for i in range(len(points)):
        links = cand.links(i)
        links = links[links < nloc]  # owned cells only: each point counted once
        # DOLFINx 0.5's GJK test uses absolute tolerances that fail on nanometre cells, so
        # the point-in-tetrahedron test is done here with barycentric coordinates.
        for c in links:
            X = x[cell_nodes[c]]
            lam = np.linalg.solve((X[1:] - X[0]).T, points[i] - X[0])
            if lam.min() >= -1e-10 and lam.sum() <= 1 + 1e-10:
                idx.append(i)
                cl.append(c)
                break
    if idx:
        local[idx] = f.eval(points[idx], np.array(cl, dtype=np.int32)).reshape(len(idx), bs)
    allv = mesh.comm.allgather(local)
    out = np.full_like(local, np.nan)
    for a in allv:
        mask = np.isnan(out[:, 0]) & ~np.isnan(a[:, 0])
        out[mask] = a[mask]
    return out


def write_json(path: Union[str, Path], data: dict, comm=MPI.COMM_WORLD):
    """Write ``data`` as JSON on rank 0 (atomically: temp file + rename)."""
    if comm.rank == 0:
        path = Path(path)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(json.dumps(data, indent=2, default=str))
        os.replace(tmp, path)
