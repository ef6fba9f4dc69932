"""Spin transport: Zhang-Levy-Fert spin diffusion, moment closure, charge current, and
the current-induced torques that couple them to the LLG integrator."""
from .parameters import Q_E, SEED_DEVICE_TRANSPORT, TRANSPORT_LIBRARY, TransportParameters, get_transport
from .transport import ElectrodeCurrent, SpinTransport, apply_moment_inverse
from .coupling import SpinAccumulationTorque, ZhangLiTorque

__all__ = ["Q_E", "SEED_DEVICE_TRANSPORT", "TRANSPORT_LIBRARY", "TransportParameters", "get_transport", "ElectrodeCurrent", "SpinTransport",
           "apply_moment_inverse", "SpinAccumulationTorque", "ZhangLiTorque"]
