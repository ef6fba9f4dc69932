"""Reading the XDMF time series that fem_stt writes, with libraries that share no code with the
writer: meshio's XDMF time-series reader and the XML parser of the standard library; and the
mesh the file should hold, read from the Gmsh ``.msh`` with meshio's Gmsh reader."""
from pathlib import Path
from xml.etree import ElementTree as ET

import meshio
import numpy as np


def read_series(path):
    """(points (N, 3), tetrahedra (M, 4), [(t, point_data, regions (M,)) per step])."""
    with meshio.xdmf.TimeSeriesReader(str(path)) as r:
        points, cells = r.read_points_cells()
        assert [c.type for c in cells] == ["tetra"]
        steps = []
        for k in range(r.num_steps):
            t, pd, cd = r.read_data(k)
            steps.append((t, pd, cd["regions"][0]))
    return points, cells[0].data, steps


def grid_structure(path):
    """The XML's grids as ParaView's readers see them: (number of grids under Domain, whether that
    one is a temporal collection, number of its step grids, whether every step grid is a uniform
    grid with its own Geometry, Topology and Time)."""
    domain = ET.parse(str(path)).getroot().find("Domain")
    top = domain.findall("Grid")
    temporal = top[0].get("CollectionType") == "Temporal"
    steps = top[0].findall("Grid")
    own = all(g.get("GridType") == "Uniform" and all(g.find(k) is not None for k in ("Geometry", "Topology", "Time"))
              for g in steps)
    return len(top), temporal, len(steps), own


def msh_cells(path, regions):
    """Tetrahedra of the named physical groups in a Gmsh file: (points of those cells sorted by
    (x, y, z), number of cells)."""
    m = meshio.read(str(Path(path)))
    tags = [m.field_data[r][0] for r in regions]
    tets = [c.data[np.isin(m.cell_data["gmsh:physical"][i], tags)]
            for i, c in enumerate(m.cells) if c.type == "tetra"]
    tets = np.vstack(tets)
    pts = m.points[np.unique(tets)]
    return pts[np.lexsort(pts.T[::-1])], len(tets)


def signed_volumes(points, cells):
    """Signed volume [m^3] of each tetrahedron (positive: VTK orientation)."""
    p = points[cells]
    return np.einsum("ij,ij->i", np.cross(p[:, 1] - p[:, 0], p[:, 2] - p[:, 0]), p[:, 3] - p[:, 0]) / 6


def check_series(path, fields, regions, msh=None):
    """Assert what ParaView shows of ``path``: one dataset per step, each with exactly ``fields`` as
    point data and the tags of exactly ``regions`` (names, mapped by ``<stem>.regions.json``) as cell
    data; with ``msh``, the points are the vertices of those regions' cells in the Gmsh file.
    Returns (points, cells, steps) as :func:`read_series`."""
    import json
    path = Path(path)
    names = json.loads(path.with_suffix(".regions.json").read_text())["cells"]
    points, cells, steps = read_series(path)
    assert grid_structure(path) == (1, True, len(steps), True)
    assert np.array_equal(np.unique(cells), np.arange(len(points)))  # no orphan points
    for t, pd, reg in steps:
        assert set(pd) == set(fields), (t, sorted(pd))
        assert all(len(v) == len(points) and np.isfinite(v).all() for v in pd.values())
        assert set(np.unique(reg)) == {names[r] for r in regions}, (t, np.unique(reg))
    if msh is not None:
        ref_points, ref_ncells = msh_cells(msh, regions)
        assert np.array_equal(points, ref_points) and len(cells) == ref_ncells
    return points, cells, steps
