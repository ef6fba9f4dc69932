"""Case files for the QDD-Rashba model: ``model = "qdd"`` (registered in :data:`fem_stt.config.MODELS`).

Every dimensional value is a string with its unit, parsed by pint and converted to SI; unknown
keys are errors naming the dotted key (the conventions of :mod:`fem_stt.config`)::

    model = "qdd"
    name = "datta_das"
    [channel]   length = "0.5 um", [width = "200 nm"] (0 or omitted: 1D), mesh_size = "10 nm",
                [structured = true]
    [material]  m_eff = 0.041, alpha_R = "3e-12 eV*m", temperature = "77 K",
                mobility = "1 m^2/(V*s)" or tau_c = "0.23 ps"
    [bias]      voltage = "50 mV"
    [contacts]  [sheet_density = "1e15 m^-2"], [polarization = [1e-3, 0, 0]]
    [gate]      (optional) position = "250 nm", width = "20 nm", height = "20 meV"
    [model_options] [quantum = true] [c = 2] [wall_bc = "covariant"|"neumann"]
                [spin_flux_eps2 = "printed"|"cancelled"|"printed+51"] [degree = 2]
    [run]       (optional, transient) t_end = "5 ps", dt = "0.05 ps", [order = 2]
    [output]    [dir = "results/datta_das"] [xdmf_every = 10]

``fem-stt check CASE.toml`` validates it (no meshing) and prints the scaled parameters;
``fem-stt run CASE.toml [--output DIR] [--overwrite]`` runs :meth:`RashbaChannel.run`.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Literal, Optional, Union

from typing import Annotated

from pydantic import BeforeValidator, StrictBool, StrictInt, StrictStr, ValidationError

from ...config import Length, Number, Time, Vec3, _clean, _fail, _parse, _Table, _to_parameter_error
from ...errors import ParameterError


def _unit(unit: str, what: str, example: str):
    """A pydantic validator: a string with a unit convertible to ``unit`` -> float in ``unit``."""
    def convert(v):
        if not isinstance(v, str):
            raise _fail(f"expected {what} with its unit (e.g. '{example}'), got {v!r}")
        q = _parse(v, what)
        try:
            val = float(q.to(unit).magnitude)
        except Exception:
            raise _fail(f"expected {what} (e.g. '{example}'), got {v!r}") from None
        if not math.isfinite(val):
            raise _fail(f"must be finite, got {v!r}")
        return _clean(val)
    return BeforeValidator(convert)


Temperature = Annotated[float, _unit("K", "a temperature", "77 K")]
Voltage = Annotated[float, _unit("V", "a voltage", "50 mV")]
Energy = Annotated[float, _unit("eV", "an energy", "20 meV")]
RashbaConstant = Annotated[float, _unit("eV*m", "a Rashba constant", "3e-12 eV*m")]
Mobility = Annotated[float, _unit("m^2/(V*s)", "a mobility", "1 m^2/(V*s)")]
SheetDensity = Annotated[float, _unit("1/m^2", "a sheet density", "1e15 m^-2")]


class ChannelCfg(_Table):
    length: Length
    width: Length = 0.0
    mesh_size: Length
    structured: StrictBool = True


class MaterialCfg(_Table):
    m_eff: Number
    alpha_R: RashbaConstant
    temperature: Temperature
    mobility: Optional[Mobility] = None
    tau_c: Optional[Time] = None


class BiasCfg(_Table):
    voltage: Voltage = 0.0


class ContactsCfg(_Table):
    sheet_density: SheetDensity = 1e15
    polarization: Vec3 = (1e-3, 0.0, 0.0)


class GateCfg(_Table):
    position: Length
    width: Length
    height: Energy


class ModelCfg(_Table):
    quantum: StrictBool = True
    c: Number = 2.0
    wall_bc: Literal["covariant", "neumann"] = "covariant"
    spin_flux_eps2: Literal["printed", "cancelled", "printed+51"] = "printed"
    degree: Optional[StrictInt] = None


class RunCfg(_Table):
    t_end: Time
    dt: Time
    order: Literal[1, 2] = 2


class OutputCfg(_Table):
    dir: Optional[StrictStr] = None
    xdmf_every: StrictInt = 10


class QDDCaseCfg(_Table):
    model: Literal["qdd"]
    name: StrictStr = "qdd"
    channel: ChannelCfg
    material: MaterialCfg
    bias: BiasCfg = BiasCfg()
    contacts: ContactsCfg = ContactsCfg()
    gate: Optional[GateCfg] = None
    model_options: ModelCfg = ModelCfg()
    run: Optional[RunCfg] = None
    output: OutputCfg = OutputCfg()


class QDDCase:
    """A validated QDD case: :meth:`device` builds the :class:`RashbaChannel`, :meth:`run` runs it."""

    def __init__(self, cfg: QDDCaseCfg, base_dir: Path, source: Optional[Path]):
        self.cfg, self.base_dir, self.source = cfg, base_dir, source
        self._device = self.device()  # validates the physics (ParameterError), no meshing

    def device(self):
        from .device import RashbaChannel
        c = self.cfg
        if (c.material.mobility is None) == (c.material.tau_c is None):
            raise ParameterError("material.mobility", "give exactly one of mobility and tau_c")
        gate = (c.gate.position, c.gate.width, c.gate.height) if c.gate else None
        try:
            return RashbaChannel(length=c.channel.length, width=c.channel.width, m_eff=c.material.m_eff,
                                 alpha_R=c.material.alpha_R, temperature=c.material.temperature,
                                 bias=c.bias.voltage, mobility=c.material.mobility, tau_c=c.material.tau_c,
                                 sheet_density=c.contacts.sheet_density, polarization=c.contacts.polarization,
                                 gate=gate, quantum=c.model_options.quantum, c=c.model_options.c,
                                 wall_bc=c.model_options.wall_bc, spin_flux_eps2=c.model_options.spin_flux_eps2,
                                 mesh_size=c.channel.mesh_size, structured=c.channel.structured,
                                 degree=c.model_options.degree)
        except ParameterError as e:  # name the key of the case file
            keys = {"length": "channel.length", "width": "channel.width", "mesh_size": "channel.mesh_size",
                    "polarization": "contacts.polarization", "sheet_density": "contacts.sheet_density",
                    "bias": "bias.voltage", "gate": "gate", "gate width": "gate.width",
                    "degree": "model_options.degree"}
            key = keys.get(e.parameter, f"material.{e.parameter}")
            raise ParameterError(key, str(e).split(": ", 1)[1]) from None

    def describe(self) -> str:
        c, d = self.cfg, self._device
        geo = (f"2D channel {c.channel.length:g} m x {c.channel.width:g} m" if c.channel.width > 0
               else f"1D channel {c.channel.length:g} m")
        gate = (f", gate barrier {c.gate.height:g} eV at {c.gate.position:g} m (width {c.gate.width:g} m)"
                if c.gate else "")
        mob = (f"mobility {c.material.mobility:g} m^2/(V s)" if c.material.mobility is not None
               else f"tau_c {c.material.tau_c:g} s")
        run = "stationary" if c.run is None else f"{c.run.t_end:g} s (dt {c.run.dt:g} s, BDF{c.run.order})"
        return "\n".join([
            f"QDD-Rashba case '{c.name}' ({self.source or 'dict'})",
            f"  regions: {geo}, cells {c.channel.mesh_size:g} m; contacts source (x = 0), drain (x = L); "
            f"walls {c.model_options.wall_bc}{gate}",
            f"  materials: m* = {c.material.m_eff:g} me, alpha_R = {c.material.alpha_R:g} eV m, "
            f"T = {c.material.temperature:g} K, {mob}",
            f"  transport: {'Bohm terms, eqs. (6)-(7)' if c.model_options.quantum else 'eps -> 0 limit, eqs. (9)-(10)'}"
            f", c = {c.model_options.c:g}, eps^2 spin flux {c.model_options.spin_flux_eps2}",
            f"  current: bias {c.bias.voltage:g} V, sheet density {c.contacts.sheet_density:g} m^-2, injected "
            f"polarization {list(c.contacts.polarization)}",
            f"  {d.scales.describe()}",
            f"  t_end: {run}"])

    def run(self, comm=None, output: Union[str, Path, None] = None, overwrite: bool = False, resume: bool = False,
            progress: bool = True, mesh_dir=None) -> Path:
        """Run the case; ``output`` overrides ``[output] dir``. ``resume`` is not supported (the
        runs are short): ParameterError."""
        if resume:
            raise ParameterError("resume", "QDD runs have no checkpoints; run again (with --overwrite)")
        c = self.cfg
        out = output if output is not None else c.output.dir
        dev = self.device()
        kw = {} if c.run is None else {"t_end": c.run.t_end, "dt": c.run.dt, "order": c.run.order}
        path = dev.run(out, comm, overwrite=overwrite, xdmf_every=c.output.xdmf_every, progress=progress, **kw)
        if (comm is None or comm.rank == 0) and self.source is not None:
            (Path(path) / "case.toml").write_text(Path(self.source).read_text())
        return path


def qdd_case(text: str, base_dir: Union[str, Path, None] = None, source: Optional[Path] = None) -> QDDCase:
    """The :class:`QDDCase` of a case file's text (the loader registered as ``MODELS["qdd"]``)."""
    try:
        import tomllib
    except ModuleNotFoundError:  # pragma: no cover
        import tomli as tomllib  # type: ignore
    data = tomllib.loads(text)
    try:
        cfg = QDDCaseCfg.model_validate(data)
    except ValidationError as e:
        raise _to_parameter_error(e) from None
    return QDDCase(cfg, Path(base_dir) if base_dir else Path.cwd(), source)
