"""Bad input to the q-LLG model gets a ParameterError naming the parameter, before any work."""
import numpy as np
import pytest

from fem_stt.atomistic.qllg import (PAPER, QLLG, Hamiltonian, ReducedUnits, SpinCluster, dimer_hamiltonian,
                                    projector)
from fem_stt.errors import ParameterError

T = [0.0, 1e-12, 2e-12]


@pytest.fixture
def model():
    return QLLG(dimer_hamiltonian(1.0, 0.6), 0.5)


def rho_ud():
    return projector(SpinCluster([0.5, 0.5]).basis_state("ud"))


@pytest.mark.parametrize("rho, match", [
    (np.array([[0.5, 0.2], [0.0, 0.5]]), "rho0"),                      # wrong size (and non-Hermitian)
    (np.diag([0.5, 0.5, 0.0, 0.0]) + np.diag([0.1, 0, 0], 1), "Hermitian"),
    (np.diag([0.5, 0.5, 0.5, 0.0]), "trace"),
    (np.diag([1.2, -0.2, 0.0, 0.0]), "positive"),
    (np.eye(3) / 3, r"\(4, 4\)"),
    ("up", "rho0"),
])
def test_bad_density_matrix(model, rho, match):
    with pytest.raises(ParameterError, match=match) as e:
        model.solve(rho, T)
    assert e.value.parameter == "rho0"


def test_bad_hamiltonian():
    with pytest.raises(ParameterError, match="Hermitian") as e:
        QLLG(np.array([[0, 1], [0, 0]]) * 1e-23, 0.5)
    assert e.value.parameter == "hamiltonian"
    H = Hamiltonian(SpinCluster([0.5, 0.5]))
    with pytest.raises(ParameterError, match=r"\(4, 4\)"):
        H.add_matrix(np.eye(2))
    with pytest.raises(ParameterError, match="Hermitian"):
        H.add_matrix(np.triu(np.ones((4, 4))))
    with pytest.raises(ParameterError, match="different sites") as e:
        H.exchange(1, 1, 1e-23)
    with pytest.raises(ParameterError, match=r"\[0, 1\]") as e:
        H.dmi(0, 2, (0, 0, 1e-23))
    assert e.value.parameter == "site"
    with pytest.raises(ParameterError, match="B"):
        H.zeeman((1, 0))
    H.zeeman(lambda t: (1, 0))  # checked when used
    with pytest.raises(ParameterError, match="B"):
        QLLG(H, 0.5)
    with pytest.raises(ParameterError, match="J"):
        H.exchange(0, 1, float("nan"))
    with pytest.raises(ParameterError, match="axis"):
        H.anisotropy(0, 1e-23, (0, 0, 0))
    with pytest.raises(ParameterError, match="gamma_g"):
        Hamiltonian(SpinCluster([0.5]), gamma_g=-1)
    with pytest.raises(ParameterError, match="B0"):
        ReducedUnits(1e11, 0.0)


@pytest.mark.parametrize("kappa", [-0.1, float("inf"), "a"])
def test_bad_kappa(kappa):
    with pytest.raises(ParameterError, match="kappa") as e:
        QLLG(dimer_hamiltonian(1.0), kappa)
    assert e.value.parameter == "kappa"


def test_bad_solver_options(model):
    rho = rho_ud()
    for kw, name in ((dict(method="rkmk4"), "dt"), (dict(method="rkmk4", dt=0.0), "dt"),
                     (dict(method="rkmk4", dt=-1e-13), "dt"), (dict(rtol=0.0), "rtol"), (dict(atol=-1.0), "atol"),
                     (dict(method="euler"), "method")):
        with pytest.raises(ParameterError) as e:
            model.solve(rho, T, **kw)
        assert e.value.parameter == name
    for t in ([0.0], [0.0, 0.0], [1e-12, 0.0], [0.0, float("nan")]):
        with pytest.raises(ParameterError) as e:
            model.solve(rho, t)
        assert e.value.parameter == "t_eval"
    with pytest.raises(ParameterError, match="equation"):
        QLLG(dimer_hamiltonian(1.0), 0.5, equation="lindblad")


def test_closed_form_needs_a_pure_or_werner_state_and_a_static_h(model):
    with pytest.raises(ParameterError, match="pure state") as e:
        model.solve(np.diag([0.4, 0.3, 0.2, 0.1]), T, method="closed_form")
    assert e.value.parameter == "rho0"
    Ht = dimer_hamiltonian(1.0, 0.0, lambda tau: (1.0, 0.0, 0.0))
    with pytest.raises(ParameterError, match="time-independent"):
        QLLG(Ht, 0.5).solve(rho_ud(), T, method="closed_form")
    assert PAPER.time_unit == pytest.approx(1e-11, rel=1e-9, abs=0)
