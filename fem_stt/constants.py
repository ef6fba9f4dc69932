"""Physical constants in SI units, defined in one place (CODATA 2018).

Sign convention for charge (used by the spin-transport modules): ``E_CHARGE`` is the
elementary charge, a positive number; the electron's charge is ``-E_CHARGE``.
"""
import math

MU0 = 4e-7 * math.pi  # vacuum permeability [T m/A] (N/A^2); pre-2019 exact value, differs from CODATA 2018 by 5.5e-10 relative
HBAR = 1.054571817e-34  # reduced Planck constant [J s]
E_CHARGE = 1.602176634e-19  # elementary charge [C], positive
MU_B = 9.2740100783e-24  # Bohr magneton [J/T] = [A m^2]
GAMMA_E = 1.76085963023e11  # electron gyromagnetic ratio |gamma| [rad/(s T)]
GAMMA0 = 2.2128e5  # mu0 * gamma, the LLG gyromagnetic constant used by micromagnetic codes [m/(A s)]
K_B = 1.380649e-23  # Boltzmann constant [J/K]
