"""SP4 field 1 with magnum.np (finite differences, PyTorch, CPU): the peer for benchmarks/sp4.py.

Runs in its own environment (benchmarks/.peer-venv: torch==2.13.0 + magnumnp). Relaxes the
S-state from (1, 0.25, 0.1) with alpha = 1, applies field 1 and integrates t_end seconds at
alpha = 0.02, logging <m> every 1 ps. Prints one JSON line: peer_wall_s_1ns (integration
only, scaled to 1 ns), peer_setup_s (mesh, state, field objects), peer_relax_s, peer_whole_s
(setup + relaxation + integration, imports excluded), crossing_ps (first zero of <mx>), S_state, cells.
"""
import json
import sys
import time

import numpy as np
import torch
from magnumnp import (DemagField, ExchangeField, ExternalField, LLGSolver, Mesh, State, constants, normalize,
                      set_log_level)


def main(nx=128, ny=32, t_end=1e-9):
    set_log_level(30)
    torch.set_num_threads(2)
    t_start = time.perf_counter()
    mesh = Mesh((nx, ny, 1), (500e-9 / nx, 125e-9 / ny, 3e-9))
    state = State(mesh)
    state.material = {"Ms": 8e5, "A": 1.3e-11, "alpha": 1.0}
    state.m = state.Constant([1.0, 0.25, 0.1])
    normalize(state.m)
    demag, exchange = DemagField(), ExchangeField()
    t_setup = time.perf_counter() - t_start
    LLGSolver([demag, exchange]).relax(state)
    t_relax = time.perf_counter() - t_start - t_setup
    s_state = [float(v) for v in state.m.mean(dim=(0, 1, 2))]
    state.t = 0.0
    state.material["alpha"] = 0.02
    field = ExternalField([-24.6e-3 / constants.mu_0, 4.3e-3 / constants.mu_0, 0.0])
    llg = LLGSolver([demag, exchange, field])
    t, mx = [0.0], [s_state[0]]
    t0 = time.perf_counter()
    while state.t < t_end - 1e-15:
        llg.step(state, 1e-12)
        t.append(float(state.t))
        mx.append(float(state.m.mean(dim=(0, 1, 2))[0]))
    wall = time.perf_counter() - t0
    whole = time.perf_counter() - t_start
    t, mx = np.array(t), np.array(mx)
    i = np.flatnonzero(np.sign(mx[1:]) * np.sign(mx[:-1]) < 0)
    crossing = float(t[i[0]] - mx[i[0]] * (t[i[0] + 1] - t[i[0]]) / (mx[i[0] + 1] - mx[i[0]])) if len(i) else float("nan")
    print(json.dumps({"peer": "magnum.np", "cells": [nx, ny, 1], "S_state": s_state, "crossing_ps": crossing * 1e12,
                      "peer_wall_s": wall, "peer_wall_s_1ns": wall * 1e-9 / t_end, "peer_setup_s": t_setup,
                      "peer_relax_s": t_relax, "peer_whole_s": whole}), flush=True)


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]), *(float(a) for a in sys.argv[3:4]))
