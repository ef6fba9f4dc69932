"""The same tight-binding systems built with Kwant (real-energy S matrix, lead modes, wave functions).

Kwant (Groth et al., New J. Phys. 16, 063065 (2014)) provides lead self-energies, the scattering matrix,
scattering wave functions and LDOS at REAL energies only; the complex-energy contours, interior blocks
of G^r and energy derivatives of :mod:`.greens` are this package's own. Here Kwant serves as an
independent reference: a :class:`~.lattice.TightBinding` is rebuilt site by site with ``norbs = 2``
(onsite 2x2 blocks and hoppings from the same definitions), with :class:`~.leads.LatticeLead` leads as
translationally invariant Kwant leads. A lead whose device coupling t_c differs from its hopping t gets one
buffer column of lead sites inside the scattering region (coupled by t_c), which leaves the scattering
problem unchanged. Wide-band leads have no Kwant counterpart.
"""
from __future__ import annotations

import numpy as np

from ...errors import ParameterError
from .lattice import TightBinding
from .leads import ID2, SIGMA, LatticeLead


def import_kwant():
    """Import Kwant so that its sequential MUMPS (Debian's libzmumps_seq) keeps its own symbols.

    PETSc (DOLFINx) links Debian's parallel MUMPS, which exports the same symbols (zmumps_c, ...); when PETSc is
    loaded first, a plain ``import kwant`` binds Kwant's solver to the parallel library and every Kwant solve fails
    with "MUMPS failed with error -3". Loading Kwant's extension modules with RTLD_DEEPBIND makes them resolve
    their MUMPS symbols in their own dependencies first (checked both import orders; PETSc's MUMPS keeps working).
    Use this instead of ``import kwant`` anywhere fem_stt (or DOLFINx) may already be imported."""
    import os
    import sys
    if "kwant" in sys.modules:
        return sys.modules["kwant"]
    flags = sys.getdlopenflags()
    try:
        sys.setdlopenflags(flags | os.RTLD_NOW | getattr(os, "RTLD_DEEPBIND", 0))
        import kwant
        import kwant.linalg.mumps  # noqa: F401  (the extension that links MUMPS, loaded under the same flags)
        import kwant.solvers.default  # noqa: F401
    except ImportError as e:  # pragma: no cover - kwant is a dependency (pyproject)
        raise ImportError("Kwant is needed for this cross-check: pip install kwant") from e
    finally:
        sys.setdlopenflags(flags)
    return kwant


_kwant = import_kwant


def build_kwant(system: TightBinding, spin_blocks: bool = False):
    """(finalized Kwant system, device_orbitals): ``device_orbitals[n]`` is the Kwant orbital index of
    orbital n of ``system`` (its 2N orbitals, spin fastest), so that Kwant's per-orbital outputs can be
    compared to this package's. ``spin_blocks``: leads declare the z spin conserved (Kwant's
    ``conservation_law``; block 0 = up, 1 = down), for spin-resolved S-matrix blocks; normal leads only.
    Raises ParameterError for wide-band leads (or magnetic leads with ``spin_blocks``)."""
    kwant = _kwant()
    nx, ny = system.nx, system.ny
    lat = kwant.lattice.square(a=1, norbs=2)
    syst = kwant.Builder()
    ons = system.site_blocks()
    for ix in range(nx):
        for iy in range(ny):
            syst[lat(ix, iy)] = ons[ix, iy]
    hx, hy = system.hop_x(), system.hop_y()
    for ix in range(nx):
        for iy in range(ny):
            if ix + 1 < nx:  # kwant: syst[a, b] = h[a, b]
                syst[lat(ix, iy), lat(ix + 1, iy)] = hx
            if iy + 1 < ny:
                syst[lat(ix, iy), lat(ix, iy + 1)] = hy
    for side in system.lead_names:
        L = system.leads[side]
        if not isinstance(L, LatticeLead):
            raise ParameterError(f"leads['{side}']", "Kwant has no wide-band lead; use a LatticeLead")
        step = -1 if side == "left" else 1
        edge = 0 if side == "left" else nx - 1
        lonsite = L.onsite * ID2 + L.exchange * np.einsum("i,ijk->jk", L.direction, SIGMA)
        lhop = -L.hopping * ID2
        attach = edge
        if abs(L.coupling - L.hopping) > 1e-15:  # buffer column of lead sites, coupled by t_c
            attach = edge + step
            for iy in range(ny):
                syst[lat(attach, iy)] = lonsite
            for iy in range(ny):
                syst[lat(edge, iy), lat(attach, iy)] = -L.coupling * ID2
                if iy + 1 < ny:
                    syst[lat(attach, iy), lat(attach, iy + 1)] = lhop
        if spin_blocks and L.exchange != 0 and abs(abs(L.direction[2]) - 1) > 1e-12:
            raise ParameterError(f"leads['{side}']", "spin blocks need leads that conserve the z spin")
        law = np.diag([-1.0, 1.0]) if spin_blocks else None  # sorted eigenvalues: block 0 = up
        lead = kwant.Builder(kwant.TranslationalSymmetry((step, 0)), conservation_law=law)
        for iy in range(ny):
            lead[lat(attach, iy)] = lonsite
        for iy in range(ny):
            lead[lat(attach, iy), lat(attach + step, iy)] = lhop
            if iy + 1 < ny:
                lead[lat(attach, iy), lat(attach, iy + 1)] = lhop
        syst.attach_lead(lead)
    fsyst = syst.finalized()
    index = {tuple(s.tag): 2 * k for k, s in enumerate(fsyst.sites)}  # norbs = 2 on every site
    dev = np.empty(system.n_orbitals, dtype=int)
    for ix in range(nx):
        for iy in range(ny):
            n = ix * ny + iy
            o = index[(ix, iy)]
            dev[2 * n], dev[2 * n + 1] = o, o + 1
    return fsyst, dev


def kwant_smatrix(system: TightBinding, E: float, spin_blocks: bool = False):
    """Kwant's scattering matrix of ``system`` at real energy E (a kwant SMatrix; leads in the order
    of ``system.lead_names``; with ``spin_blocks``, ``transmission((1, s_out), (0, s_in))`` per z spin)."""
    kwant = _kwant()
    fsyst, _ = build_kwant(system, spin_blocks)
    return kwant.smatrix(fsyst, E)


def kwant_ldos(system: TightBinding, E: float) -> np.ndarray:
    """Kwant's LDOS of the device sites at E, (nx, ny) (both spins summed)."""
    kwant = _kwant()
    fsyst, dev = build_kwant(system)
    ld = kwant.ldos(fsyst, E)
    return ld[dev].reshape(system.n_sites, 2).sum(axis=1).reshape(system.nx, system.ny)
