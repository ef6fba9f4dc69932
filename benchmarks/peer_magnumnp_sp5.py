"""muMAG SP5 with magnum.np (finite differences, PyTorch, CPU): the peer for benchmarks/sp5.py.

Runs in its own environment (benchmarks/.peer-venv: torch==2.13.0 + magnumnp). Permalloy
100 x 100 x 10 nm in nx x ny x nz cells (default 32 x 32 x 4, mumax3's regression mesh),
vortex(1, 1) (counter-clockwise from +z, core +z) relaxed with alpha = 1, then alpha = 0.1 and
magnum.np's SpinTorqueZhangLi with j = 1e12 A/m^2 along +x, P = 1, xi = 0.05. magnum.np's
b = P mu_B / (e Ms (1 + xi^2)) is the mumax3 convention (|u| = 72.17 m/s) and its torque is that of
u = -b j (along the electron flow, like fem_stt and mumax3); gamma0 = 2.2128e5 m/(A s) (fixed in
magnum.np; SP5 says 2.211e5). <m> is logged every 10 ps.

Usage:  python peer_magnumnp_sp5.py [nx ny nz t_end csv_path]
Prints one JSON line: cells, m_1ns, mx_min, mx_max, t_mx_min_ns, final_m, peer_wall_s and peer_cpu_s
(integration only), relax_wall_s; with csv_path also writes t [s], <mx>, <my>, <mz> there.
"""
import json
import sys
import time

import numpy as np
import torch
from magnumnp import (DemagField, ExchangeField, LLGSolver, Mesh, SpinTorqueZhangLi, State, constants, normalize,
                      set_log_level)


def main(nx=32, ny=32, nz=4, t_end=8e-9, csv_path=None):
    set_log_level(30)
    torch.set_num_threads(1)
    L, d = 100e-9, 10e-9
    mesh = Mesh((nx, ny, nz), (L / nx, L / ny, d / nz))
    state = State(mesh)
    xi = 0.05
    state.material = {"Ms": 8e5, "A": 1.3e-11, "alpha": 1.0, "xi": xi,
                      "b": 1.0 * constants.mu_B / (constants.e * 8e5 * (1 + xi**2))}
    x = (torch.arange(nx, dtype=torch.float64) + 0.5) * L / nx - L / 2
    y = (torch.arange(ny, dtype=torch.float64) + 0.5) * L / ny - L / 2
    X, Y = torch.meshgrid(x, y, indexing="ij")
    r0 = 10e-9
    m = state.Constant([0.0, 0.0, 0.0])
    m[..., 0] = (-Y)[:, :, None]
    m[..., 1] = X[:, :, None]
    m[..., 2] = (r0 * torch.exp(-(X**2 + Y**2) / r0**2))[:, :, None]
    state.m = m
    normalize(state.m)
    demag, exchange = DemagField(), ExchangeField()
    t0 = time.perf_counter()
    LLGSolver([demag, exchange]).relax(state, maxiter=2000)
    relax_wall = time.perf_counter() - t0
    relaxed = [float(v) for v in state.m.mean(dim=(0, 1, 2))]
    state.t = 0.0
    state.material["alpha"] = 0.1
    state.j = state.Constant([1e12, 0.0, 0.0])
    llg = LLGSolver([demag, exchange, SpinTorqueZhangLi()])
    ts, ms = [0.0], [relaxed]
    w0, c0 = time.perf_counter(), time.process_time()
    n = int(round(t_end / 1e-11))
    for _ in range(n):
        llg.step(state, 1e-11)
        ts.append(float(state.t))
        ms.append([float(v) for v in state.m.mean(dim=(0, 1, 2))])
    wall, cpu = time.perf_counter() - w0, time.process_time() - c0
    ts, ms = np.array(ts), np.array(ms)
    i1 = int(np.argmin(np.abs(ts - 1e-9)))
    if csv_path:
        np.savetxt(csv_path, np.column_stack([ts, ms]), delimiter=",", header="t_s,mx,my,mz", comments="")
    print(json.dumps({"peer": "magnum.np", "cells": [nx, ny, nz], "relaxed_m": relaxed,
                      "m_1ns": ms[i1].tolist() if ts[-1] >= 1e-9 * (1 - 1e-6) else None, "t_1ns": float(ts[i1]),
                      "mx_min": float(ms[:, 0].min()), "mx_max": float(ms[:, 0].max()),
                      "t_mx_min_ns": float(ts[np.argmin(ms[:, 0])] * 1e9), "final_m": ms[-1].tolist(),
                      "t_end_s": float(ts[-1]), "peer_wall_s": wall, "peer_cpu_s": cpu, "relax_wall_s": relax_wall,
                      "gamma0": constants.gamma, "u_m_per_s": -state.material["b"][0, 0, 0, 0].item() * 1e12}),
          flush=True)


if __name__ == "__main__":
    a = sys.argv[1:]
    main(*(int(v) for v in a[:3]), *(float(v) for v in a[3:4]), *a[4:5])
