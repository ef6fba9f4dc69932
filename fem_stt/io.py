"""Output: XDMF time series for ParaView, run folders that never overwrite silently, line probes.

:class:`XDMFOutput` writes ONE dataset per time step (meshio's XDMF time-series writer,
``.xdmf`` + ``.h5``) that carries every field as point data (values at the vertices:
higher-order Lagrange fields are interpolated to P1 first, which for P2 keeps the exact
vertex values) and the integer region tags as cell data (``regions``; the name -> tag map
is written to ``<stem>.regions.json`` beside it). By default only the device cells are
written (every region except ``air`` and ``shell``) and only the vertices of those cells,
so ParaView shows the device itself. The mesh is gathered to rank 0 once, the field
values once per step; points are sorted by coordinate and cells canonically ordered, so
the file does not depend on the number of MPI ranks.
"""
from __future__ import annotations

import copy
import datetime as _dt
import json
import logging
import os
from pathlib import Path
from typing import Iterable, Optional, Sequence, Union
from xml.etree import ElementTree as ET

import dolfinx
import dolfinx.fem
import dolfinx.geometry
import dolfinx.la
import dolfinx.mesh
import meshio
import meshio.xdmf
import numpy as np
from mpi4py import MPI

from . import _compat
from .domain import NON_MAGNETIC_GROUPS
from .errors import ParameterError


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


def _cell_vertex_dofs(V) -> np.ndarray:
    """(num local cells incl. ghosts, 4): the (block) dof of ``V`` at each cell vertex, in the
    cell's reference vertex order (P1 Lagrange on tetrahedra)."""
    dm = V.dofmap
    per_vertex = [dm.dof_layout.entity_dofs(0, i)[0] for i in range(4)]
    return dm.list.array.reshape(-1, dm.dof_layout.num_dofs)[:, per_vertex]


class _MeshioTimeSeries(meshio.xdmf.TimeSeriesWriter):
    """meshio's XDMF time-series writer (HDF5 heavy data), changed so that every ParaView
    reader sees one dataset per step and a running or interrupted run leaves a valid file:

    - each step's grid carries the mesh's Geometry and Topology itself (pointing to the same
      ``.h5`` datasets, written once) instead of meshio's separate mesh grid + XInclude, which
      ParaView's "XDMF Reader" loads as a second, field-less copy of the mesh;
    - the ``.h5`` goes beside the ``.xdmf`` (meshio 5.0 puts it in the working directory) and
      is open only while a step is written (HDF5 refuses readers of a file open for writing),
      without HDF5 file locking (so a ParaView session holding it cannot stop the run);
    - the XML is rewritten (atomically) after each step, referring only to complete data.
    """

    def __init__(self, filename):
        import h5py
        super().__init__(filename)
        self.h5_filename = str(self.filename.with_suffix(".h5"))
        h5py.File(self.h5_filename, "w", locking=False).close()

    def _step(self, write):
        import h5py
        with h5py.File(self.h5_filename, "a", locking=False) as self.h5_file:
            write()
        self.h5_file = None
        tmp = self.filename.with_name(self.filename.name + ".tmp")
        ET.ElementTree(self.xdmf_file).write(tmp)
        os.replace(tmp, self.filename)

    def write_points_cells(self, points, cells):
        def write():
            super(_MeshioTimeSeries, self).write_points_cells(points, cells)
            grid = self.domain.find(f"Grid[@Name='{self.mesh_name}']")
            self._mesh_items = list(grid)  # Geometry, Topology
            self.domain.remove(grid)
        self._step(write)

    def write_data(self, t, point_data=None, cell_data=None):
        def write():
            super(_MeshioTimeSeries, self).write_data(t, point_data, cell_data)
            grid = self.collection[-1]
            for e in [e for e in grid if e.tag.endswith("}include")]:
                grid.remove(e)
            for k, item in enumerate(self._mesh_items):
                grid.insert(k, copy.deepcopy(item))
            grid.set("Name", f"step_{len(self.collection) - 1}")
            grid.set("GridType", "Uniform")
        self._step(write)


class XDMFOutput:
    """An XDMF time series for ParaView: one dataset per :meth:`write` with every field as
    point data and the region tags as cell data (``regions``, int32), on the device cells.

    Parameters
    ----------
    path : ``.xdmf`` path (the ``.h5`` and ``<stem>.regions.json`` go beside it).
    domain : fem_stt.domain.Domain
    include : names of vacuum groups (``"air"``, ``"shell"``) to write as well; by default
        every region except those is written (magnets, spacers, contacts)
    all_cells : write every region of the mesh

    The file holds only the vertices of the written cells (``num_points`` of them, sorted by
    their exact coordinates [m]) and ``num_cells`` tetrahedra (vertex indices ascending but
    for the last two where positive orientation needs them swapped; cells sorted); points
    and cells are the same whatever the number of ranks. Memory: the mesh is gathered to
    rank 0 once; each :meth:`write` gathers only the field values (num_points x components).
    Collective: all ranks construct it and call :meth:`write` and :meth:`close`.

    Raises ParameterError for an unknown region name in ``include``, a selection without
    cells, or a non-tetrahedral mesh.
    """

    def __init__(self, path: Union[str, Path], domain, include: Sequence[str] = (), all_cells: bool = False):
        if isinstance(include, str):
            include = (include,)
        unknown = [r for r in include if r not in domain.regions]
        if unknown:
            raise ParameterError("include", f"unknown region(s) {unknown}; regions: {sorted(domain.regions)}")
        mesh = domain.mesh
        if mesh.topology.cell_type != dolfinx.mesh.CellType.tetrahedron:
            raise ParameterError("domain", f"XDMFOutput writes tetrahedral meshes, got {mesh.topology.cell_type}")
        names = [r for r in domain.regions if all_cells or r not in NON_MAGNETIC_GROUPS or r in include]
        self.path = Path(path)
        self.domain = domain
        self.comm = comm = domain.comm
        self.written_regions = sorted(names, key=lambda r: domain.regions[r])
        n_owned_cells = mesh.topology.index_map(3).size_local
        tags = domain.cell_tags
        sel = np.isin(tags.values, [domain.regions[r] for r in names]) & (tags.indices < n_owned_cells)
        cells, cell_tags = tags.indices[sel], tags.values[sel].astype(np.int32)
        self.num_cells = comm.allreduce(len(cells))
        if self.num_cells == 0:
            raise ParameterError("include", f"no cells to write in regions {names}")

        # Vertices are the dofs of a scalar P1 space V0; one rank (the owner) sends each vertex
        # of a written cell, also when the owner itself holds no written cell around it.
        V0 = _compat.function_space(mesh, "CG", 1)
        self._V0_cell_dofs = _cell_vertex_dofs(V0)
        im0 = V0.dofmap.index_map
        self._num_local_vertices = im0.size_local + im0.num_ghosts
        mark = dolfinx.la.vector(im0)
        mark.array[:] = 0.0
        mark.array[self._V0_cell_dofs[cells].ravel()] = 1.0
        mark.scatter_reverse(dolfinx.la.ScatterMode.add)
        self._vertices = np.flatnonzero(mark.array[: im0.size_local] > 0).astype(np.int32)
        gid = im0.local_to_global(self._vertices)
        # exact vertex coordinates from the geometry (P1 geometry: node i of a cell is its vertex i);
        # tabulate_dof_coordinates() would recompute them with cell-dependent round-off
        node_of_vertex = np.empty(self._num_local_vertices, dtype=np.int32)
        cell_nodes = mesh.geometry.dofmap.array.reshape(len(self._V0_cell_dofs), -1)[:, :4]
        node_of_vertex[self._V0_cell_dofs.ravel()] = cell_nodes.ravel()
        xyz = mesh.geometry.x[node_of_vertex[self._vertices]]
        cell_gid = im0.local_to_global(self._V0_cell_dofs[cells].ravel()).reshape(-1, 4)
        self._counts = np.array(comm.allgather(len(self._vertices)))
        self.num_points = int(self._counts.sum())
        self._vertex_dofs = {}  # id(V) -> (V, dof of V at each written vertex)
        self._p1 = {}  # id(f) -> (f, its P1 interpolant)
        self._closed = False

        parts = comm.gather((gid, xyz, cell_gid, cell_tags), root=0)
        err = None
        if comm.rank == 0:
            try:
                self._writer = self._write_mesh(parts)
            except Exception as e:  # noqa: BLE001 -- re-raised on every rank below
                err = e
        _raise_from_root(comm, err)
        del parts

    def _write_mesh(self, parts):
        """Rank 0: order points and cells independently of the partition; write the mesh."""
        gid = np.concatenate([p[0] for p in parts])
        xyz = np.vstack([p[1] for p in parts])
        cell_gid = np.vstack([p[2] for p in parts])
        region = np.concatenate([p[3] for p in parts])
        # points sorted by (x, y, z); self._order[k] = received row that becomes point k
        self._order = np.lexsort((xyz[:, 2], xyz[:, 1], xyz[:, 0]))
        points = xyz[self._order]
        point_of_row = np.empty(len(gid), dtype=np.int64)
        point_of_row[self._order] = np.arange(len(gid))
        by_gid = np.argsort(gid)
        pos = np.searchsorted(gid[by_gid], cell_gid)
        cells = np.sort(point_of_row[by_gid[pos]], axis=1)
        # positive orientation (VTK: the first three vertices turn counter-clockwise seen from the fourth)
        p = points[cells]
        vol = np.einsum("ij,ij->i", np.cross(p[:, 1] - p[:, 0], p[:, 2] - p[:, 0]), p[:, 3] - p[:, 0])
        cells[vol < 0, 2:] = cells[vol < 0, 3:1:-1]
        order = np.lexsort(cells.T[::-1])
        cells, self._regions = cells[order], region[order]
        self.path.with_suffix(".regions.json").write_text(json.dumps(
            {"cells": self.domain.regions, "facets": self.domain.facet_groups, "written": self.written_regions},
            indent=2))
        writer = _MeshioTimeSeries(self.path)
        writer.write_points_cells(points, [("tetra", cells)])
        return writer

    def _values(self, f) -> np.ndarray:
        """Values of ``f`` at this rank's written vertices: shape (n,) or (n, block size)."""
        V = f.function_space
        if not np.shares_memory(V.mesh.geometry.x, self.domain.mesh.geometry.x):
            raise ParameterError("functions", f"{f.name!r} lives on another mesh than the domain's")
        if V.ufl_element().family() not in ("Lagrange", "Q"):
            raise ParameterError("functions", f"{f.name!r}: only Lagrange fields are written, got "
                                              f"{V.ufl_element().family()}")
        if V.ufl_element().degree() != 1:
            key = id(f)
            if key not in self._p1:
                self._p1[key] = (f, to_p1(f))
            g = self._p1[key][1]
            g.interpolate(f)
            f, V = g, g.function_space
        if id(V) not in self._vertex_dofs:
            dof_of_vertex = np.empty(self._num_local_vertices, dtype=np.int32)
            dof_of_vertex[self._V0_cell_dofs.ravel()] = _cell_vertex_dofs(V).ravel()
            self._vertex_dofs[id(V)] = (V, dof_of_vertex[self._vertices])
        bs = V.dofmap.index_map_bs
        vals = f.x.array.reshape(-1, bs)[self._vertex_dofs[id(V)][1]]
        return vals[:, 0] if bs == 1 else vals

    def write(self, functions: Iterable, t: float = 0.0):
        """Write one time step: every function (any Lagrange degree; named by ``f.name``) at the
        written vertices, and the region tags, at time ``t`` [s]. Collective.

        Raises ParameterError for two functions of one name, a function on another mesh or a
        non-Lagrange function."""
        if self._closed:
            raise ValueError(f"{self.path} is closed")
        functions = list(functions)
        names = [f.name for f in functions]
        if len(set(names)) != len(names):
            raise ParameterError("functions", f"names must be unique, got {names}")
        vals = [self._values(f) for f in functions]
        widths = [1 if v.ndim == 1 else v.shape[1] for v in vals]
        local = np.ascontiguousarray(np.column_stack(vals) if vals else np.zeros((len(self._vertices), 0)),
                                     dtype=np.float64)
        ncol = local.shape[1]
        recv = np.empty((self.num_points, ncol)) if self.comm.rank == 0 else None
        self.comm.Gatherv(local, (recv, self._counts * ncol) if self.comm.rank == 0 else None, root=0)
        err = None
        if self.comm.rank == 0:
            try:
                recv = recv[self._order]
                point_data, c = {}, 0
                for name, w in zip(names, widths):
                    point_data[name] = np.ascontiguousarray(recv[:, c] if w == 1 else recv[:, c:c + w])
                    c += w
                self._writer.write_data(float(t), point_data, {"regions": [self._regions]})
            except Exception as e:  # noqa: BLE001 -- re-raised on every rank below
                err = e
        _raise_from_root(self.comm, err)

    def close(self):
        """End writing (no file is held open between steps: the file is complete after each :meth:`write`)."""
        self._closed = True

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _raise_from_root(comm, err):
    """Raise on every rank an exception that occurred on rank 0 (keeps the ranks in step)."""
    err = comm.bcast(err, root=0)
    if err is not None:
        raise err


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
