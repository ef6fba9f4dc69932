"""Microscopic LLG from non-equilibrium Green's functions (seed 003: Xu, Li, Chen, Yu, Zhang, Wang, Wang,
"Unified framework of the microscopic Landau-Lifshitz-Gilbert equation and its application to skyrmion
dynamics", PRB 108, 144409 (2023)); model notes, conventions and errata in shared/models/negf_llg.md.

Units: energies in the hopping t (= J_ex), hbar = gamma = a = 1 (the paper's Sec. V units); the SI scales
(t_hat = hbar/J_ex, ...) are in :mod:`.units`, the one place where lattice units are converted.

Modules
-------
- :mod:`.leads`: 1D-chain, square-ribbon (normal or ferromagnetic) and wide-band lead self-energies
  in closed form at complex energy (App. A).
- :mod:`.lattice`: :class:`TightBinding`, spinful square lattices with moments, Rashba SOI, Zeeman, gates (eqs. 3, 4, 32).
- :mod:`.greens`: frozen G^r (eq. A5), dense and recursive (RGF) along x.
- :mod:`.transport`: Fermi-surface factors A = W W^+, LDOS/DOS, spin-resolved transmission, lead currents (A2, A3).
- :mod:`.equilibrium`: s^(0) and occupations by complex contours with bound states, Ozaki poles at T > 0 (eqs. 14, 33).
- :mod:`.damping`: Gilbert tensor (Kubo, S-matrix D1, corrected eqs. 15/19 and the literal forms), reactive
  part, susceptibilities, inertia (eqs. 15-22, 30, B5).
- :mod:`.rotating`: exact rotating-frame steady state of a precessing texture (reference solver).
- :mod:`.pumping`: emissivities, Brouwer, pumped charge, eq. 40, the Fermi-surface pumped spin density.
- :mod:`.skyrmion`: H_Sk of eq. 38, relaxation, centre, topological charge (Sec. V).
- :mod:`.dynamics`: the NEGF-LLG of eq. 39 (RK4, pumping gates, checkpoint/resume), Thiele fit.
- :mod:`.kwant_systems`: the same systems in Kwant (independent S matrix, LDOS, self-energies).
"""
from .dynamics import NEGFLLG, Pump, frozen_pumped_current, thiele_fit
from .damping import (dynamic_susceptibility, eq19_literal, eq22_literal, eqB5_literal, exchange_operators,
                      gyromagnetic_factor, inertia_tensor, nonadiabatic_damping,
                      kubo_damping, reactive_vector, response_tensor, smatrix, smatrix_damping, static_susceptibility)
from .equilibrium import contour_points, exchange_field, ozaki_poles, site_density_matrices, spin_density
from .greens import greens_derivative, greens_function, retarded_dense, rgf
from .lattice import TightBinding
from .pumping import (brouwer_emissivity, emissivity, gate_path, pumped_charge, pumped_current,
                      pumped_spin_coefficients)
from .skyrmion import (SkyrmionHamiltonian, bloch_ansatz, relax, skyrmion_center, skyrmion_report,
                       topological_charge)
from .leads import LatticeLead, WideBandLead, chain_surface_gf
from .rotating import rotating_frame_damping, rotating_frame_spin
from .transport import FermiSurface, lead_currents

__all__ = ["FermiSurface", "LatticeLead", "NEGFLLG", "Pump", "SkyrmionHamiltonian", "TightBinding", "WideBandLead",
           "bloch_ansatz", "brouwer_emissivity", "emissivity", "frozen_pumped_current", "gate_path", "pumped_charge",
           "pumped_current", "pumped_spin_coefficients", "relax", "skyrmion_center", "skyrmion_report", "thiele_fit",
           "topological_charge", "chain_surface_gf", "contour_points", "exchange_field",
           "dynamic_susceptibility", "eq19_literal", "eq22_literal", "eqB5_literal", "gyromagnetic_factor", "nonadiabatic_damping", "exchange_operators", "greens_derivative",
           "greens_function", "inertia_tensor", "kubo_damping", "lead_currents", "ozaki_poles", "reactive_vector",
           "response_tensor", "retarded_dense", "rgf", "rotating_frame_damping", "rotating_frame_spin",
           "site_density_matrices", "smatrix", "smatrix_damping", "spin_density", "static_susceptibility"]
