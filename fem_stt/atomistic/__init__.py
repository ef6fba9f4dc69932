"""Atomistic and lattice models, without finite elements (numpy/scipy at their core).

- :mod:`fem_stt.atomistic.qllg`: the quantum Landau-Lifshitz-Gilbert master equation for the
  density matrix of a spin cluster (seed 004, Liu et al., PRL 133, 266704 (2024), eq. 3), with
  classical atomistic LLG and Lindblad comparisons.
- :mod:`fem_stt.atomistic.negf`: tight-binding lattices with classical moments, non-equilibrium
  Green's functions, the microscopic LLG coefficients (Gilbert damping tensor, current-induced
  torques) and a skyrmion driven by quantum parametric pumping (seed 003, Xu et al.,
  PRB 108, 144409 (2023)).

Each model's module docstring states the equation it solves, its units and its source.
"""
