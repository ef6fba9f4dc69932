"""Case files: a whole simulation (geometry, materials, transport, current, initial state,
integrator, run, output) in one TOML file, validated before anything is meshed.

Every dimensional value is a string with its unit (``"200 nm"``, ``"5e12 A/m^2"``,
``"0.1 ps"``), parsed by pint and converted to SI; a plain number is accepted only for
dimensionless quantities (alpha, beta, kappa, direction vectors, ...). Unknown keys
anywhere are errors. All checks raise :class:`fem_stt.errors.ParameterError` whose
``parameter`` is the dotted key of the case file (``"geometry.layers[0].thickness"``).

    from fem_stt.config import load_case
    case = load_case("demos/cases/seed_device_diffusion.toml")  # parse + validate (no meshing)
    stack = case.build_geometry()        # LayerStack (or MshGeometry for kind = "msh")
    domain = case.build_domain(comm)     # meshes on rank 0 / reads the .msh -> Domain
    sim = case.build_simulation(domain)  # fem_stt.simulation.Simulation
    out = case.run(comm)                 # mesh, relax, run, summary.json; returns the output folder

Schema (tables and keys; [] = optional):

- ``name``: letters, digits, ``_``, ``-`` (mesh file stem and default output folder)
- ``[geometry]``: ``kind = "stack"`` with ``mesh_size``, ``[interface_mesh_size]``,
  ``[edge_mesh_size]``, ``[extruded]`` (true: one triangulation extruded through the layers,
  :class:`~fem_stt.geometry.LayerStack`), ``[[geometry.layers]]`` (``name``, ``thickness``, ``material``,
  ``cross_section = {shape = "rectangle"|"ellipse", width, depth}`` or
  ``{shape = "circle", diameter}``, ``[mesh_size]``) and ``[geometry.surrounding]``
  (``none = true`` for no air/shell, or ``shape``, ``padding``, ``shell_ratio``,
  ``mesh_size``, ``grading``, ``size``; omitted: the :class:`~fem_stt.geometry.Surrounding`
  defaults); or ``kind = "msh"`` with ``path`` (relative to the case file), ``[length_scale]``
  (metres per file unit: a number or a length such as ``"1 nm"``) and ``regions = {name = material}``.
- ``[materials.NAME]``: ``Ms``, ``[A]``, ``[alpha]``, ``[gamma0]``, ``[K1]``, ``[K1_axis]``,
  ``[Kc1]``, ``[Kc_axes]`` (a new name; library names cannot be redefined).
- ``[transport]`` (omit for no current-induced torque): ``torque``, ``[model]``, ``[kappa]``,
  ``[xi]``, ``[transport.regions]`` region -> transport library name or table
  (``D0``, ``lambda_sf``, ``[lambda_J]``, ``[beta]``, ``[beta_prime]``, ``[sigma]``);
  for ``torque = "zhang_li"`` also a plain number (the polarization P).
- ``[current]`` (needed by a torque): ``mode = "prescribed"`` with ``density`` and ``direction``
  (of the charge current; electrons flow opposite), or ``mode = "self_consistent"`` with
  ``density``, ``[source]``, ``[drain]``.
- ``[initial]``: magnetic region -> ``[mx, my, mz]`` or ``"random"``; ``[random_seed]``,
  ``[random_correlation_length]``.
- ``[llg]``: ``[order]``, ``[dt]``, ``[dt_min]``, ``[dt_max]``, ``[max_rotation]``, ``[fixed]``,
  ``[demag]``, ``[demag_method]`` (``"shell"`` or ``"fembem"``; default: shell if the mesh has one),
  ``[relax]``, ``[relax_tol]``, ``[relax_max_iterations]``, ``[H_ext]``
  (3 fields in A/m or T, the latter divided by mu0), ``[thin_film]`` (true: m uniform through the
  thickness of each magnetic layer; needs ``geometry.extruded = true`` or an extruded mesh file).
- ``[run]``: ``t_end``, ``[stop = {region, component, above | below}]``.
- ``[output]``: ``[dir]`` (relative to the working directory), ``[xdmf_every]``, ``[csv_every]``,
  ``[checkpoint_every]``, ``[energy_every]``.
"""
from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import logging
import math
import re
import time
import warnings
from pathlib import Path
from typing import Annotated, Any, Dict, List, Literal, Optional, Tuple, Union

try:  # Python >= 3.11
    import tomllib
except ModuleNotFoundError:  # pragma: no cover
    import tomli as tomllib  # type: ignore

from pydantic import (BaseModel, BeforeValidator, ConfigDict, Discriminator, Field, PrivateAttr, StrictBool,
                      StrictInt, StrictStr, Tag, ValidationError, model_validator)
from pydantic_core import PydanticCustomError

from .constants import MU0
from .errors import ParameterError
from .geometry.estimate import MeshSizeWarning
from .materials import LIBRARY, Material

log = logging.getLogger(__name__)

# ---------------------------------------------------------------------------- units
#: kind -> (reference SI unit, description, example)
_KINDS = {
    "length": ("m", "a length", "200 nm"),
    "time": ("s", "a time", "0.1 ps"),
    "magnetization": ("A/m", "a magnetization or field in A/m", "8e5 A/m"),
    "field": ("A/m", "a magnetic field in A/m or T", "1e4 A/m"),
    "exchange": ("J/m", "an exchange stiffness", "1.3e-11 J/m"),
    "energy_density": ("J/m^3", "an energy density", "500 J/m^3"),
    "diffusion": ("m^2/s", "a diffusion constant", "1e-3 m^2/s"),
    "conductivity": ("S/m", "a conductivity", "4e6 S/m"),
    "current_density": ("A/m^2", "a current density", "5e12 A/m^2"),
    "gyromagnetic": ("m/(A*s)", "a gyromagnetic ratio mu0*gamma", "2.2128e5 m/(A*s)"),
}


@functools.lru_cache(maxsize=1)
def _ureg():
    import pint
    return pint.UnitRegistry()


def _clean(x: float) -> float:
    """Drop the last-digit noise of unit conversions (200 nm -> 2e-07, not 2.0000000000000002e-07)."""
    return float(f"{x:.15g}")


def _fail(msg: str):
    return PydanticCustomError("fem_stt", "{msg}", {"msg": msg})


def _parse(text: str, what: str):
    ureg = _ureg()
    try:
        q = ureg.Quantity(text.strip())
    except Exception as e:  # pint raises several kinds (undefined unit, syntax)
        reason = str(e) if "not defined" in str(e) else "not a number with a unit"
        raise _fail(f"cannot read {text!r} as {what}: {reason}") from None
    return q


def _quantity(kind: str):
    unit, what, example = _KINDS[kind]

    def convert(v):
        if isinstance(v, bool) or not isinstance(v, (str, int, float)):
            raise _fail(f"expected {what} (e.g. '{example}'), got {v!r}")
        if not isinstance(v, str):
            raise _fail(f"expected {what} with its unit (e.g. '{example}'), got the plain number {v!r}")
        q = _parse(v, what)
        ureg = _ureg()
        if not hasattr(q, "units") or q.dimensionless:
            raise _fail(f"expected {what} with its unit (e.g. '{example}'), got {v!r} without a unit")
        try:
            if kind == "field" and q.check("[mass] / [time] ** 2 / [current]"):  # tesla: mu0 H
                val = (q / (MU0 * ureg("T*m/A"))).to(unit).magnitude
            else:
                val = q.to(unit).magnitude
        except Exception:
            raise _fail(f"expected {what} (e.g. '{example}'), got {v!r}") from None
        val = float(val)
        if not math.isfinite(val):
            raise _fail(f"must be finite, got {v!r}")
        return _clean(val)
    return convert


def _dimensionless(v):
    if isinstance(v, bool):
        raise _fail(f"expected a number, got {v!r}")
    if isinstance(v, (int, float)):
        v = float(v)
    elif isinstance(v, str):
        q = _parse(v, "a number")
        if hasattr(q, "units") and not q.dimensionless:
            raise _fail(f"expected a dimensionless number, got {v!r}")
        v = float(q.to("dimensionless").magnitude) if hasattr(q, "units") else float(q)
    else:
        raise _fail(f"expected a number, got {v!r}")
    if not math.isfinite(v):
        raise _fail(f"must be finite, got {v!r}")
    return v


def _length_scale(v):
    """``length_scale``: metres per file unit, a plain number or a length."""
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return _dimensionless(v)
    return _quantity("length")(v)


Length = Annotated[float, BeforeValidator(_quantity("length"))]
Time = Annotated[float, BeforeValidator(_quantity("time"))]
Magnetization = Annotated[float, BeforeValidator(_quantity("magnetization"))]
FieldQ = Annotated[float, BeforeValidator(_quantity("field"))]
Exchange = Annotated[float, BeforeValidator(_quantity("exchange"))]
EnergyDensity = Annotated[float, BeforeValidator(_quantity("energy_density"))]
Diffusion = Annotated[float, BeforeValidator(_quantity("diffusion"))]
Conductivity = Annotated[float, BeforeValidator(_quantity("conductivity"))]
CurrentDensity = Annotated[float, BeforeValidator(_quantity("current_density"))]
Gyromagnetic = Annotated[float, BeforeValidator(_quantity("gyromagnetic"))]
Number = Annotated[float, BeforeValidator(_dimensionless)]


def _triple(what: str):
    def check(v):
        if not isinstance(v, (list, tuple)) or len(v) != 3:
            raise _fail(f"expected 3 {what} [x, y, z], got {v!r}")
        return v
    return check


Vec3 = Annotated[Tuple[Number, Number, Number], BeforeValidator(_triple("numbers"))]

_TAG = "\x00"  # marks union tags in error locations (stripped from the dotted key)


def _tag(name):
    return Tag(_TAG + name)


# ---------------------------------------------------------------------------- schema
class _Table(BaseModel):
    """A TOML table: unknown keys are errors listing the allowed keys."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, validate_default=False, populate_by_name=False)

    @classmethod
    def allowed_keys(cls) -> List[str]:
        return [f.alias or n for n, f in cls.model_fields.items()]

    @model_validator(mode="before")
    @classmethod
    def _unknown_keys(cls, data):
        if isinstance(data, dict) and cls.model_config.get("extra") == "forbid":
            allowed = cls.allowed_keys()
            bad = [k for k in data if k not in allowed]
            if bad:
                raise PydanticCustomError(
                    "unknown_key", "{msg}",
                    {"key": bad[0], "msg": f"unknown key{'s' if len(bad) > 1 else ''} "
                                           f"{', '.join(repr(b) for b in bad)}; allowed keys here: {', '.join(allowed)}"})
        return data


class CrossSectionCfg(_Table):
    shape: Literal["rectangle", "ellipse", "circle"]
    width: Optional[Length] = None
    depth: Optional[Length] = None
    diameter: Optional[Length] = None


class LayerCfg(_Table):
    name: StrictStr
    thickness: Length
    material: StrictStr
    cross_section: CrossSectionCfg
    mesh_size: Optional[Length] = None


class SurroundingCfg(_Table):
    none: StrictBool = False
    shape: Optional[Literal["box", "sphere"]] = None
    padding: Optional[Number] = None
    shell_ratio: Optional[Number] = None
    mesh_size: Optional[Length] = None
    grading: Optional[Number] = None
    size: Optional[Annotated[Tuple[Length, Length, Length], BeforeValidator(_triple("lengths"))]] = None


class GeometryCfg(_Table):
    kind: Literal["stack", "msh"]
    # kind = "stack"
    mesh_size: Optional[Length] = None
    interface_mesh_size: Optional[Length] = None
    edge_mesh_size: Optional[Length] = None
    extruded: Optional[StrictBool] = None
    layers: Optional[List[LayerCfg]] = None
    surrounding: Optional[SurroundingCfg] = None
    # kind = "msh"
    path: Optional[StrictStr] = None
    length_scale: Optional[Annotated[float, BeforeValidator(_length_scale)]] = None
    regions: Optional[Dict[str, StrictStr]] = None


class MaterialCfg(_Table):
    Ms: Magnetization
    A: Exchange = 0.0
    alpha: Number = 0.0
    gamma0: Optional[Gyromagnetic] = None
    K1: EnergyDensity = 0.0
    K1_axis: Optional[Vec3] = None
    Kc1: EnergyDensity = 0.0
    Kc_axes: Optional[Tuple[Vec3, Vec3]] = None


class TransportSetCfg(_Table):
    D0: Diffusion
    lambda_sf: Length
    lambda_J: Optional[Length] = None
    beta: Number = 0.0
    beta_prime: Number = 0.0
    sigma: Optional[Conductivity] = None


def _transport_kind(v):
    if isinstance(v, str):
        return _TAG + "name"
    if isinstance(v, dict):
        return _TAG + "table"
    return _TAG + "number"


TransportValue = Annotated[Union[Annotated[StrictStr, _tag("name")], Annotated[TransportSetCfg, _tag("table")],
                                 Annotated[Number, _tag("number")]], Discriminator(_transport_kind)]


class TransportCfg(_Table):
    torque: Literal["spin_diffusion", "zhang_li", "none"]
    model: Literal["diffusion", "moment"] = "diffusion"
    kappa: Number = 1.0
    xi: Number = 0.0
    regions: Dict[str, TransportValue] = Field(default_factory=dict)


class CurrentCfg(_Table):
    mode: Literal["prescribed", "self_consistent"] = "prescribed"
    density: CurrentDensity
    direction: Optional[Vec3] = None
    source: Optional[StrictStr] = None
    drain: Optional[StrictStr] = None


def _initial_kind(v):
    return _TAG + ("name" if isinstance(v, str) else "vector")


InitialValue = Annotated[Union[Annotated[Literal["random"], _tag("name")], Annotated[Vec3, _tag("vector")]],
                         Discriminator(_initial_kind)]


class InitialCfg(_Table):
    """Region keys are free (typed extras); the two random_* keys are fixed."""

    model_config = ConfigDict(extra="allow", allow_inf_nan=False)
    __pydantic_extra__: Dict[str, InitialValue] = Field(init=False)
    random_seed: StrictInt = 0
    random_correlation_length: Length = 10e-9

    @property
    def states(self) -> Dict[str, Union[str, Tuple[float, float, float]]]:
        """Region -> ``"random"`` or a 3-vector."""
        return dict(self.__pydantic_extra__ or {})


class LLGCfg(_Table):
    order: Literal[1, 2] = 2
    dt: Time = 1e-13
    dt_min: Optional[Time] = None
    dt_max: Optional[Time] = None
    max_rotation: Number = 0.05
    fixed: List[StrictStr] = Field(default_factory=list)
    demag: StrictBool = True
    demag_method: Optional[Literal["shell", "fembem"]] = None
    relax: StrictBool = False
    relax_tol: Magnetization = 10.0
    relax_max_iterations: StrictInt = 5000
    H_ext: Optional[Annotated[Tuple[FieldQ, FieldQ, FieldQ], BeforeValidator(_triple("fields"))]] = None
    thin_film: StrictBool = False


class StopCfg(_Table):
    region: StrictStr
    component: Literal["x", "y", "z"]
    above: Optional[Number] = None
    below: Optional[Number] = None


class RunCfg(_Table):
    t_end: Time
    stop: Optional[StopCfg] = None


class OutputCfg(_Table):
    dir: Optional[StrictStr] = None
    xdmf_every: StrictInt = 20
    csv_every: StrictInt = 1
    checkpoint_every: StrictInt = 200
    energy_every: StrictInt = 10


@dataclasses.dataclass(frozen=True)
class MshGeometry:
    """A user's ``.msh`` (kind = "msh"): what :meth:`Case.build_domain` reads."""

    path: Path
    materials: Dict[str, Material]
    length_scale: float = 1.0
    cell_groups: Tuple[str, ...] = ()
    facet_groups: Tuple[str, ...] = ()


def _vec(v) -> str:
    return "[" + ", ".join(f"{float(c):g}" for c in v) + "]"


def _fmt(x: float, unit: str) -> str:
    """A short human-readable value with an SI prefix."""
    if x == 0:
        return f"0 {unit}"
    for f, p in ((1e-15, "f"), (1e-12, "p"), (1e-9, "n"), (1e-6, "u"), (1e-3, "m"), (1.0, "")):
        if unit in ("m", "s") and abs(x) < 1000 * f:
            return f"{x / f:.4g} {p}{unit}"
    return f"{x:.4g} {unit}"


class Case(_Table):
    """A validated case file (all values SI floats). Build with :func:`load_case` or
    :meth:`Case.from_dict`; both run the cross-checks (:meth:`validate_case`)."""

    name: StrictStr
    geometry: GeometryCfg
    materials: Dict[str, MaterialCfg] = Field(default_factory=dict)
    transport: Optional[TransportCfg] = None
    current: Optional[CurrentCfg] = None
    initial: InitialCfg
    llg: LLGCfg = Field(default_factory=LLGCfg)
    run_cfg: RunCfg = Field(alias="run")
    output: OutputCfg = Field(default_factory=OutputCfg)

    _base_dir: Path = PrivateAttr(default_factory=Path.cwd)
    _source: Optional[Path] = PrivateAttr(default=None)
    _text: Optional[str] = PrivateAttr(default=None)
    _materials: Dict[str, Material] = PrivateAttr(default_factory=dict)  # region -> Material
    _user_materials: Dict[str, Material] = PrivateAttr(default_factory=dict)  # [materials] name -> Material
    _geometry: Any = PrivateAttr(default=None)
    _mesh_estimate: Optional[dict] = PrivateAttr(default=None)

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_dict(cls, data: dict, base_dir: Union[str, Path, None] = None) -> "Case":
        """Validate a parsed case (``tomllib`` output); ``base_dir`` resolves ``geometry.path``."""
        try:
            case = cls.model_validate(data)
        except ValidationError as e:
            raise _to_parameter_error(e) from None
        case._base_dir = Path(base_dir) if base_dir is not None else Path.cwd()
        case.validate_case()
        return case

    @classmethod
    def from_toml(cls, text: str, base_dir: Union[str, Path, None] = None, source: Optional[Path] = None) -> "Case":
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as e:
            raise ParameterError(str(source or "case"), f"not valid TOML: {e}") from None
        case = cls.from_dict(data, base_dir)
        case._text, case._source = text, source
        return case

    @property
    def source(self) -> Optional[Path]:
        """The case file (None when built from a dict)."""
        return self._source

    @property
    def stop(self) -> Optional[StopCfg]:
        return self.run_cfg.stop

    # ------------------------------------------------------------------ cross-checks
    @property
    def regions(self) -> List[str]:
        """Region names that carry a material (layers, or the msh's ``regions``)."""
        return list(self._materials)

    @property
    def magnetic_regions(self) -> List[str]:
        return [r for r, m in self._materials.items() if m.magnetic]

    def _material(self, name: str, key: str) -> Material:
        if name in self.materials:
            return self._user_materials[name]
        if name in LIBRARY:
            return LIBRARY[name]
        raise ParameterError(key, f"unknown material {name!r}; library: {', '.join(sorted(LIBRARY))}"
                                  + (f"; defined in [materials]: {', '.join(self.materials)}" if self.materials else
                                     "; or define it in a [materials.NAME] table"))

    def validate_case(self):
        """Every check that needs no mesh: names, ranges (through the package's own
        constructors), and cross-references between the tables. Raises ParameterError."""
        if not re.fullmatch(r"[A-Za-z0-9_\-]+", self.name):
            raise ParameterError("name", f"must be letters, digits, '_' or '-' (it names files), got {self.name!r}")
        self._check_materials()
        self._check_geometry()
        mags = self.magnetic_regions
        where = "layers" if self.geometry.kind == "stack" else "geometry.regions"
        if not mags:
            raise ParameterError("geometry", f"no magnetic region (a material with Ms > 0) among the {where}")
        self._check_transport()
        self._check_current()
        self._check_initial()
        self._check_llg()
        self._check_run()
        for k in ("xdmf_every", "csv_every", "checkpoint_every", "energy_every"):
            if getattr(self.output, k) <= 0:
                raise ParameterError(f"output.{k}", f"must be a positive number of steps, got {getattr(self.output, k)}")

    def _region_key(self, section: str, r: str):
        """Error unless ``r`` is a region of the geometry."""
        if r not in self._materials:
            what = "a layer name" if self.geometry.kind == "stack" else "a region of geometry.regions"
            raise ParameterError(section, f"{r!r} is not {what}; regions: {', '.join(self.regions)}")

    def _magnetic_key(self, section: str, r: str):
        self._region_key(section, r)
        if not self._materials[r].magnetic:
            raise ParameterError(section, f"{r!r} is not magnetic (material {self._materials[r].name!r} has Ms = 0); "
                                          f"magnetic regions: {', '.join(self.magnetic_regions)}")

    def _check_materials(self):
        self._user_materials = {}
        for name, mc in self.materials.items():
            key = f"materials.{name}"
            if name in LIBRARY:
                raise ParameterError(key, f"{name!r} is a library material; give the new set another name "
                                          f"(library: {', '.join(sorted(LIBRARY))})")
            kw = {k: v for k, v in mc.model_dump().items() if v is not None}
            try:
                self._user_materials[name] = Material(name=name, **kw)
            except ParameterError as e:
                raise ParameterError(f"{key}.{e.parameter.split('.')[-1]}", _msg(e)) from None

    def _check_geometry(self):
        g = self.geometry
        stack_keys = ("mesh_size", "interface_mesh_size", "edge_mesh_size", "extruded", "layers", "surrounding")
        msh_keys = ("path", "length_scale", "regions")
        other = msh_keys if g.kind == "stack" else stack_keys
        for k in other:
            if getattr(g, k) is not None:
                raise ParameterError(f"geometry.{k}", f"is not a key of kind = {g.kind!r}; its keys: "
                                                      f"kind, {', '.join(stack_keys if g.kind == 'stack' else msh_keys)}")
        if g.kind == "stack":
            self._check_stack()
        else:
            self._check_msh()

    def _check_stack(self):
        from .geometry import Layer, LayerStack, Surrounding
        from .geometry.shapes import CrossSection
        g = self.geometry
        for k in ("mesh_size", "layers"):
            if getattr(g, k) is None:
                raise ParameterError(f"geometry.{k}", "is required for kind = 'stack'")
        layers, mats = [], {}
        for i, lc in enumerate(g.layers):
            key = f"geometry.layers[{i}]"
            cs = lc.cross_section
            ck = f"{key}.cross_section"
            if cs.shape == "circle":
                for k in ("width", "depth"):
                    if getattr(cs, k) is not None:
                        raise ParameterError(f"{ck}.{k}", "a circle takes 'diameter' only")
                if cs.diameter is None:
                    raise ParameterError(f"{ck}.diameter", "is required for a circle")
                args = ("circle", cs.diameter)
            else:
                if cs.diameter is not None:
                    raise ParameterError(f"{ck}.diameter", f"a {cs.shape} takes 'width' and 'depth', not 'diameter'")
                for k in ("width", "depth"):
                    if getattr(cs, k) is None:
                        raise ParameterError(f"{ck}.{k}", f"is required for a {cs.shape}")
                args = (cs.shape, cs.width, cs.depth)
            try:
                section = CrossSection(*args)
            except ParameterError as e:
                field = e.parameter.split(".")[-1]
                raise ParameterError(f"{ck}.{'diameter' if cs.shape == 'circle' else field}", _msg(e)) from None
            mat = self._material(lc.material, f"{key}.material")
            layers.append(Layer(lc.name, lc.thickness, mat, section, mesh_size=lc.mesh_size))
            mats[lc.name] = mat
        sur = Surrounding()
        if g.surrounding is not None:
            kw = {k: v for k, v in g.surrounding.model_dump().items() if v is not None and k != "none"}
            if g.surrounding.none:
                if kw:
                    raise ParameterError("geometry.surrounding.none", f"excludes the other keys ({', '.join(kw)})")
                sur = None
            else:
                try:
                    sur = Surrounding(**kw)
                except ParameterError as e:
                    raise ParameterError(f"geometry.{e.parameter}", _msg(e)) from None
        try:
            stack = LayerStack(layers, mesh_size=g.mesh_size, interface_mesh_size=g.interface_mesh_size,
                               surrounding=sur, name=self.name, edge_mesh_size=g.edge_mesh_size,
                               extruded=bool(g.extruded))
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", MeshSizeWarning)
                self._mesh_estimate = stack.check_mesh_size()
        except ParameterError as e:
            raise ParameterError(f"geometry.{e.parameter}", _msg(e)) from None
        self._mesh_estimate["warnings"] = [f"geometry.{w.message}" for w in caught]
        self._geometry = stack
        self._materials = mats

    def _check_msh(self):
        g = self.geometry
        for k in ("path", "regions"):
            if getattr(g, k) is None:
                raise ParameterError(f"geometry.{k}", "is required for kind = 'msh'")
        path = Path(g.path)
        if not path.is_absolute():
            path = self._base_dir / path
        if not path.is_file():
            raise ParameterError("geometry.path", f"mesh file {path} does not exist (a relative path is taken "
                                                  f"from the case file's folder)")
        ls = 1.0 if g.length_scale is None else g.length_scale
        if not ls > 0:
            raise ParameterError("geometry.length_scale", f"must be > 0 (metres per file unit), got {ls}")
        cells, facets = read_msh_groups(path)
        if cells is not None:
            if not cells:
                raise ParameterError("geometry.path", f"{path} has no named 3D physical groups")
            for r in g.regions:
                if r not in cells:
                    raise ParameterError(f"geometry.regions.{r}", f"not a 3D physical group of {path}; "
                                                                  f"groups: {', '.join(cells)}")
            missing = [c for c in cells if c not in g.regions and c not in ("air", "shell")]
            if missing:
                raise ParameterError("geometry.regions", f"physical group(s) {', '.join(missing)} of {path} have no "
                                                         f"material; give geometry.regions.NAME = material")
        if "air" in g.regions or "shell" in g.regions:
            raise ParameterError("geometry.regions", "'air' and 'shell' are vacuum; do not give them a material")
        mats = {r: self._material(m, f"geometry.regions.{r}") for r, m in g.regions.items()}
        self._materials = mats
        self._geometry = MshGeometry(path, mats, ls, tuple(cells or ()), tuple(facets or ()))

    def _check_transport(self):
        t = self.transport
        if t is None:
            return
        if t.kappa < 0:
            raise ParameterError("transport.kappa", f"must be >= 0, got {t.kappa}")
        if t.xi < 0:
            raise ParameterError("transport.xi", f"must be >= 0, got {t.xi}")
        if t.torque == "none":
            if t.regions:
                raise ParameterError("transport.regions", "has no effect with torque = 'none'; remove it")
            return
        if t.torque == "spin_diffusion":
            if not t.regions:
                raise ParameterError("transport.regions", "spin_diffusion needs transport parameters for every "
                                                          "conducting region (region = library name or table)")
            for r, v in t.regions.items():
                key = f"transport.regions.{r}"
                self._region_key(key, r)
                p = self._transport_params(v, key, allow_number=False)
                mag = self._materials[r].magnetic
                if mag and p.lambda_J is None:
                    raise ParameterError(f"{key}.lambda_J", "must be given (> 0 m) in a magnetic region")
                if not mag and (p.lambda_J is not None or p.beta or p.beta_prime):
                    raise ParameterError(key, "a non-magnetic region has no lambda_J and beta = beta_prime = 0")
            for r in self.magnetic_regions:
                if r not in t.regions:
                    raise ParameterError("transport.regions", f"magnetic region {r!r} has no transport parameters "
                                                              f"(given: {', '.join(t.regions)})")
            if self.geometry.kind == "stack":
                for r in self.regions:
                    if r not in t.regions:
                        raise ParameterError("transport.regions", f"layer {r!r} has no transport parameters; the "
                                                                  f"current flows through every layer of a stack")
        else:  # zhang_li
            for r, v in t.regions.items():
                key = f"transport.regions.{r}"
                self._magnetic_key(key, r)
                if isinstance(v, float):
                    if not 0.0 <= v <= 1.0:
                        raise ParameterError(key, f"polarization must be in [0, 1], got {v}")
                else:
                    p = self._transport_params(v, key, allow_number=True)
                    if p.beta > 1:
                        raise ParameterError(f"{key}.beta", f"must be in [0, 1], got {p.beta}")
            if t.regions:
                for r in self.magnetic_regions:
                    if r not in t.regions:
                        raise ParameterError("transport.regions", f"magnetic region {r!r} has no polarization "
                                                                  f"(given: {', '.join(t.regions)})")
            else:
                from .spin.parameters import TRANSPORT_LIBRARY
                for r in self.magnetic_regions:
                    if self._materials[r].name not in TRANSPORT_LIBRARY:
                        raise ParameterError("transport.regions", f"no transport library entry for material "
                                                                  f"{self._materials[r].name!r} of {r!r}; give "
                                                                  f"transport.regions.{r} = polarization in [0, 1]")

    def _transport_params(self, v, key, allow_number):
        from .spin.parameters import TRANSPORT_LIBRARY, TransportParameters
        if isinstance(v, str):
            if v not in TRANSPORT_LIBRARY:
                raise ParameterError(key, f"unknown transport set {v!r}; library: {', '.join(sorted(TRANSPORT_LIBRARY))}"
                                          " or a table with D0, lambda_sf, ...")
            return TRANSPORT_LIBRARY[v]
        if isinstance(v, float):
            raise ParameterError(key, f"expected a transport library name or a table (D0, lambda_sf, ...), got {v!r}"
                                 + ("" if allow_number else " (a plain number is a Zhang-Li polarization)"))
        p = TransportParameters(**v.model_dump())
        return p.checked(key)

    def _check_current(self):
        c, t = self.current, self.transport
        torque = t.torque if t is not None else "none"
        if torque == "none":
            if c is not None:
                raise ParameterError("current", "has no effect without a current-induced torque; set "
                                                "[transport] torque = 'spin_diffusion' or 'zhang_li', or remove [current]")
            return
        if c is None:
            raise ParameterError("current", f"torque = {torque!r} needs a [current] table (mode, density, direction)")
        if c.density < 0:
            raise ParameterError("current.density", f"is the magnitude |j_e| (>= 0 A/m^2); reverse "
                                                    f"current.direction instead; got {c.density}")
        if c.mode == "prescribed":
            for k in ("source", "drain"):
                if getattr(c, k) is not None:
                    raise ParameterError(f"current.{k}", "only for mode = 'self_consistent'")
            if c.direction is None:
                raise ParameterError("current.direction", "is required for mode = 'prescribed' (the direction of the "
                                                          "charge current; electrons flow opposite), e.g. [0, 0, -1]")
            if not math.hypot(*c.direction) > 0:
                raise ParameterError("current.direction", f"must be a non-zero vector, got {list(c.direction)}")
        else:
            if torque == "zhang_li":
                raise ParameterError("current.mode", "the Zhang-Li model takes a prescribed current")
            if c.direction is not None:
                raise ParameterError("current.direction", "only for mode = 'prescribed' (the self-consistent current "
                                                          "flows from source to drain)")
            for k, default in (("source", "top_electrode"), ("drain", "bottom_electrode")):
                g = getattr(c, k) or default
                known = self._facet_groups()
                if known is not None and g not in known:
                    raise ParameterError(f"current.{k}", f"{g!r} is not a facet group of the mesh; groups: "
                                                         f"{', '.join(known)}")
            if (c.source or "top_electrode") == (c.drain or "bottom_electrode"):
                raise ParameterError("current.drain", "must differ from current.source")
            for r, v in self.transport.regions.items():
                if self._transport_params(v, f"transport.regions.{r}", False).sigma is None:
                    raise ParameterError(f"transport.regions.{r}.sigma",
                                         "the self-consistent current needs sigma (> 0 S/m) in every conducting region")

    def _facet_groups(self) -> Optional[List[str]]:
        if self.geometry.kind == "stack":
            from .geometry import interface_name
            names = [lc.name for lc in self.geometry.layers]
            return ["bottom_electrode", "top_electrode"] + [interface_name(a, b) for a, b in zip(names, names[1:])]
        return list(self._geometry.facet_groups) or None

    def _check_initial(self):
        states = self.initial.states
        for r, v in states.items():
            key = f"initial.{r}"
            self._magnetic_key(key, r)
            if not isinstance(v, str) and not math.sqrt(sum(c * c for c in v)) > 0:
                raise ParameterError(key, f"must be a non-zero vector (or 'random'), got {list(v)}")
        for r in self.magnetic_regions:
            if r not in states:
                raise ParameterError("initial", f"magnetic region {r!r} has no initial magnetization; give "
                                                f"initial.{r} = [mx, my, mz] or \"random\"")
        if self.initial.random_correlation_length <= 0:
            raise ParameterError("initial.random_correlation_length",
                                 f"must be > 0 m, got {self.initial.random_correlation_length}")

    def _check_llg(self):
        from .errors import require_positive
        c = self.llg
        require_positive("llg.dt", c.dt, "s")
        for k in ("dt_min", "dt_max"):
            if getattr(c, k) is not None:
                require_positive(f"llg.{k}", getattr(c, k), "s")
        if c.dt_max is not None and c.dt_max < c.dt:
            raise ParameterError("llg.dt_max", f"must be >= llg.dt = {_fmt(c.dt, 's')}, got {_fmt(c.dt_max, 's')}")
        if c.dt_min is not None and c.dt_min > c.dt:
            raise ParameterError("llg.dt_min", f"must be <= llg.dt = {_fmt(c.dt, 's')}, got {_fmt(c.dt_min, 's')}")
        if not 0 < c.max_rotation <= 1:
            raise ParameterError("llg.max_rotation", f"must be in (0, 1] rad, got {c.max_rotation}")
        if c.thin_film and self.geometry.kind == "stack" and not self.geometry.extruded:
            raise ParameterError("llg.thin_film", "needs an extruded mesh: set geometry.extruded = true")
        require_positive("llg.relax_tol", c.relax_tol, "A/m")
        if c.relax_max_iterations <= 0:
            raise ParameterError("llg.relax_max_iterations", f"must be > 0, got {c.relax_max_iterations}")
        for i, r in enumerate(c.fixed):
            self._magnetic_key(f"llg.fixed[{i}]", r)
        if c.fixed and self.geometry.kind == "stack":
            names = [lc.name for lc in self.geometry.layers]
            mags = set(self.magnetic_regions)
            for a, b in zip(names, names[1:]):
                if a in mags and b in mags and ((a in c.fixed) != (b in c.fixed)):
                    raise ParameterError("llg.fixed", f"fixed layer and free layer {a!r} / {b!r} touch (share "
                                                      f"vertices); put a non-magnetic spacer between them")
        if c.demag and c.demag_method == "shell":
            if self.geometry.kind == "stack" and self._geometry.surrounding is None:
                raise ParameterError("llg.demag_method", "the shell stray field needs the air and shell around the "
                                                         "stack: remove geometry.surrounding.none or use 'fembem'")
            if self.geometry.kind == "msh" and self._geometry.cell_groups and "shell" not in self._geometry.cell_groups:
                raise ParameterError("llg.demag_method", f"the shell stray field needs 'air' and 'shell' groups in "
                                                         f"{self._geometry.path}, or use 'fembem'")

    def _check_run(self):
        from .errors import require_positive
        require_positive("run.t_end", self.run_cfg.t_end, "s")
        s = self.run_cfg.stop
        if s is not None:
            self._magnetic_key("run.stop.region", s.region)
            if (s.above is None) == (s.below is None):
                raise ParameterError("run.stop", "give exactly one of 'above' and 'below'")
            v = s.above if s.above is not None else s.below
            if not -1.0 <= v <= 1.0:
                raise ParameterError(f"run.stop.{'above' if s.above is not None else 'below'}",
                                     f"is a component of <m> and must be in [-1, 1], got {v}")

    # ------------------------------------------------------------------ building
    def build_geometry(self):
        """The validated :class:`~fem_stt.geometry.LayerStack` (kind = "stack") or
        :class:`MshGeometry` (kind = "msh"); nothing is meshed."""
        return self._geometry

    def mesh_path(self, mesh_dir: Union[str, Path, None] = None) -> Optional[Path]:
        """``<mesh_dir>/<name>_h<mesh_size in nm>nm.msh`` for a stack (None for kind = "msh")."""
        if self.geometry.kind != "stack":
            return None
        return Path(mesh_dir or "meshes") / f"{self.name}_h{self.geometry.mesh_size * 1e9:g}nm.msh"

    def build_domain(self, comm=None, mesh_dir: Union[str, Path, None] = None):
        """Mesh the stack on rank 0 (re-using a mesh of the same geometry) or read the
        ``.msh``; returns a :class:`fem_stt.domain.Domain` on ``comm``.

        A stack's mesh goes to :meth:`mesh_path`; if that file holds the mesh of another
        geometry, a name with the geometry's hash is used instead (never overwritten)."""
        from mpi4py import MPI

        from .domain import Domain
        comm = comm or MPI.COMM_WORLD
        geo = self._geometry
        if isinstance(geo, MshGeometry):
            return Domain.from_msh(geo.path, materials=geo.materials, comm=comm, length_scale=geo.length_scale)
        path = self.mesh_path(mesh_dir)
        try:
            return geo.mesh(path=path, comm=comm)
        except FileExistsError:
            h = hashlib.sha256(json.dumps(geo.spec(), sort_keys=True, default=str).encode()).hexdigest()[:8]
            alt = path.with_name(f"{path.stem}_{h}.msh")
            log.info("%s holds the mesh of another geometry; using %s", path, alt)
            return geo.mesh(path=alt, comm=comm)

    def initial_magnetization(self):
        """m0 for :class:`~fem_stt.simulation.Simulation`: a dict region -> vector, a callable
        (all regions random), or (mixed) the dict plus the random callable to apply after."""
        states = self.initial.states
        rnd = None
        if any(v == "random" for v in states.values()):
            from .llg.initial import random_magnetization
            rnd = random_magnetization(self.initial.random_seed, self.initial.random_correlation_length)
        vectors = {r: tuple(v) for r, v in states.items() if v != "random"}
        return vectors, rnd

    def build_simulation(self, domain):
        """A :class:`fem_stt.simulation.Simulation` on ``domain`` (from :meth:`build_domain`)."""
        import numpy as np

        from .simulation import Simulation
        from .spin import ElectrodeCurrent
        vectors, rnd = self.initial_magnetization()
        random_regions = [r for r, v in self.initial.states.items() if v == "random"]
        if rnd is None:
            m0 = vectors
        elif not vectors:
            m0 = rnd
        else:
            m0 = dict(vectors, **{r: (1.0, 0.0, 0.0) for r in random_regions})
        t = self.transport
        torque = t.torque if t is not None else "none"
        transport, jvec, electrode = None, None, None
        if torque == "spin_diffusion":
            transport = {r: self._transport_params(v, f"transport.regions.{r}", False) for r, v in t.regions.items()}
        elif torque == "zhang_li" and t.regions:
            transport = {r: (v if isinstance(v, float) else self._transport_params(v, f"transport.regions.{r}", True))
                         for r, v in t.regions.items()}
        c = self.current
        if c is not None and torque != "none":
            if c.mode == "prescribed":
                d = np.asarray(c.direction, float)
                jvec = tuple(float(x) for x in c.density * d / np.linalg.norm(d))
            else:
                electrode = ElectrodeCurrent(c.density, source=c.source or "top_electrode",
                                             drain=c.drain or "bottom_electrode")
        L = self.llg
        opts = dict(order=L.order, dt=L.dt, max_rotation=L.max_rotation, fixed=tuple(L.fixed),
                    demag_method=L.demag_method, thin_film=L.thin_film)
        if L.dt_max is not None:
            opts["dt_max"] = L.dt_max
        if L.dt_min is not None:
            opts["dt_min"] = L.dt_min
        sim = Simulation(domain, m0, transport=transport, current_density=jvec, electrode_current=electrode,
                         torque_model=torque, transport_model=t.model if t is not None else "diffusion",
                         kappa=t.kappa if t is not None else 1.0, xi=t.xi if t is not None else 0.0,
                         H_ext=L.H_ext, demag=L.demag, llg_options=opts)
        if rnd is not None and vectors:
            sim.llg.set_magnetization(_mixed(sim.llg, rnd, vectors))
        return sim

    # ------------------------------------------------------------------ running
    def stop_criterion(self):
        """``(llg) -> bool`` for :meth:`Simulation.run` from ``[run] stop`` (None without one)."""
        s = self.run_cfg.stop
        if s is None:
            return None
        k = "xyz".index(s.component)
        if s.above is not None:
            return lambda llg: float(llg.average(s.region)[k]) > s.above
        return lambda llg: float(llg.average(s.region)[k]) < s.below

    def run(self, comm=None, output: Union[str, Path, None] = None, overwrite: bool = False, resume: bool = False,
            progress: bool = True, mesh_dir: Union[str, Path, None] = None) -> Path:
        """Mesh, build the simulation, relax (if ``llg.relax``, not when resuming), run to
        ``run.t_end`` (or the stop criterion), write ``summary.json`` and a copy of the case
        (``case.toml``) into the output folder; returns the folder.

        ``output`` overrides ``output.dir`` (default ``results/<name>_<UTC time>``). A folder
        that already holds results raises FileExistsError unless ``overwrite`` (replace) or
        ``resume`` (continue from its checkpoint)."""
        from mpi4py import MPI

        from .io import prepare_output_dir, write_json
        comm = comm or MPI.COMM_WORLD
        if overwrite and resume:
            raise ParameterError("resume", "resume and overwrite exclude each other")
        out = output if output is not None else self.output.dir
        t0 = time.perf_counter()
        if resume:
            if out is None:
                raise ParameterError("resume", "needs the folder of the run to continue: give --output (output=) "
                                               "or output.dir")
            out = Path(out)
            if not (out / "checkpoint.npz").is_file():
                raise ParameterError("resume", f"no checkpoint.npz in {out}: nothing to resume")
            if comm.rank == 0:
                self._compare_with_stored(out)
        else:
            out = prepare_output_dir(out, comm, overwrite, default_name=self.name)
            if overwrite and comm.rank == 0:
                _remove_old_results(out)
        log.info("case %s -> %s", self.name, out)
        for w in (self._mesh_estimate or {}).get("warnings", []):
            log.warning("warning: %s", w)
        domain = self.build_domain(comm, mesh_dir=mesh_dir)
        sim = self.build_simulation(domain)
        llg = sim.llg
        regions = llg.mv.regions
        self._write_case_copy(out, resume, comm)
        t1 = time.perf_counter()
        relax = None
        if self.llg.relax and not resume:
            relax = sim.relax(tol=self.llg.relax_tol, max_iterations=self.llg.relax_max_iterations)
            if relax.get("converged", True) or comm.rank != 0:
                log.info("relaxed in %d iterations (max |m x H| = %.3g A/m)", relax["iterations"], relax["max_torque"])
            else:
                log.warning("relaxation stopped after %d iterations (llg.relax_max_iterations) with max |m x H| = "
                            "%.3g A/m > llg.relax_tol = %.3g A/m; running from there", relax["iterations"],
                            relax["max_torque"], self.llg.relax_tol)
        t2 = time.perf_counter()
        m_start = {r: llg.average(r).tolist() for r in regions}
        state = {"stop_time": None}
        crit = self.stop_criterion()

        def stop_when(l):
            if crit is not None and crit(l):
                state["stop_time"] = l.t
                return True
            return False
        params = {"case": self.name, "case_file": str(self._source) if self._source else None,
                  "case_si": self.model_dump(by_alias=True)}
        sim.run(self.run_cfg.t_end, out, xdmf_every=self.output.xdmf_every, csv_every=self.output.csv_every,
                      checkpoint_every=self.output.checkpoint_every, energy_every=self.output.energy_every,
                      overwrite=not resume, resume=resume, parameters=params, stop_when=stop_when, progress=progress)
        t3 = time.perf_counter()
        s = self.run_cfg.stop
        summary = {
            "case": self.name, "case_file": str(self._source) if self._source else None, "output": str(out),
            "resumed": resume, "stop": s.model_dump(exclude_none=True) if s else None,
            "switched": state["stop_time"] is not None, "stop_time_s": state["stop_time"],
            "t_end_s": self.run_cfg.t_end, "t_final_s": llg.t, "steps": llg.step_count, "rejected": llg.rejected,
            "relax": relax, "m_start": m_start, "m_final": {r: llg.average(r).tolist() for r in regions},
            "ranks": comm.size, "cells": domain.num_cells_global(), "mesh": str(domain.source),
            "wall_time_s": {"mesh_and_setup": t1 - t0, "relax": t2 - t1, "run": t3 - t2},
            "timings_s": dict(llg.timings),
            "spin_timings_s": dict(sim.spin.timings) if sim.spin is not None else None,
        }
        write_json(out / "summary.json", summary, comm)
        log.info("%s at t = %.4g ns after %d steps (%.1f s); wrote %s",
                 "stop criterion met" if summary["switched"] else "reached t_end" if llg.t >= self.run_cfg.t_end * (1 - 1e-12)
                 else "stopped", llg.t * 1e9, llg.step_count, t3 - t2, out)
        return out

    def _compare_with_stored(self, out: Path):
        """Warn when the case being resumed differs from the stored one beyond [run] and [output]."""
        try:
            stored = tomllib.loads((out / "case.toml").read_text())
            now = tomllib.loads(self._text) if self._text is not None else None
        except (OSError, tomllib.TOMLDecodeError):
            return
        if now is None:
            return
        changed = sorted(k for k in set(stored) | set(now) if k not in ("run", "output") and stored.get(k) != now.get(k))
        if changed:
            log.warning("resuming with a case that differs from %s in: %s (the checkpoint's state is continued with "
                        "the new settings)", out / "case.toml", ", ".join(changed))

    def _write_case_copy(self, out: Path, resume: bool, comm):
        """``case.toml``; when resuming ``case_resume_step<N>.toml`` (N: the checkpoint's step)."""
        if comm.rank != 0:
            return
        text = self._text if self._text is not None else _dump_toml_comment(self)
        name = "case.toml"
        if resume:
            import numpy as np
            with np.load(out / "checkpoint.npz") as ck:
                name = f"case_resume_step{int(ck['step'])}.toml"
        (out / name).write_text(text)

    # ------------------------------------------------------------------ summary
    def describe(self) -> str:
        """A short human-readable summary (``fem-stt check``)."""
        lines = [f"case       {self.name}" + (f"  ({self._source})" if self._source else "")]
        g, geo = self.geometry, self._geometry
        if g.kind == "stack":
            sur = geo.surrounding
            lines.append(f"geometry   layer stack, {len(g.layers)} layer(s), mesh {_fmt(g.mesh_size, 'm')}"
                         + (f" (interfaces {_fmt(g.interface_mesh_size, 'm')})" if g.interface_mesh_size else "")
                         + (f", {sur.shape} of air + shell" if sur else ", no air (no stray field)")
                         + f"; mesh file {self.mesh_path()}")
            for lc in g.layers:
                cs = lc.cross_section
                size = (f"diameter {_fmt(cs.diameter, 'm')}" if cs.shape == "circle"
                        else f"{cs.width * 1e9:g} x {cs.depth * 1e9:g} nm")
                lines.append(f"  {lc.name:<10} {_fmt(lc.thickness, 'm'):>9}  {lc.material:<10} {cs.shape} {size}")
        else:
            lines.append(f"geometry   {geo.path} (length scale {geo.length_scale:g} m/unit)")
            for r, m in g.regions.items():
                lines.append(f"  {r:<10} {m}")
        est = self._mesh_estimate
        if est is not None:
            lines.append(f"estimate   ~{est['cells']:.3g} cells, ~{est['vertices']:.3g} vertices"
                         + (f", ~{est['boundary_vertices']:.3g} FEM-BEM boundary vertices" if est["boundary_vertices"] else "")
                         + f", ~{est['memory_bytes'] / 2**30:.2g} GiB on 1 rank")
            lines.extend(f"warning    {w}" for w in est["warnings"])
        lines.append("regions    " + ", ".join(f"{r} ({'magnetic' if m.magnetic else 'non-magnetic'})"
                                             for r, m in self._materials.items()))
        mats = {}
        for m in self._materials.values():
            mats.setdefault(m.name, m)
        lines.append("materials  " + "; ".join(
            (f"{n}: Ms {m.Ms:.4g} A/m, A {m.A:.4g} J/m, alpha {m.alpha:g}" + (f", K1 {m.K1:g} J/m^3" if m.K1 else ""))
            if m.magnetic else f"{n}: non-magnetic" for n, m in mats.items()))
        t = self.transport
        if t is None or t.torque == "none":
            lines.append("transport  none (no current-induced torque)")
        else:
            desc = t.torque + (f", model {t.model}" + (f" (kappa {t.kappa:g})" if t.model == "moment" else "")
                               if t.torque == "spin_diffusion" else f", xi {t.xi:g}")
            regs = ", ".join(f"{r} = {v if isinstance(v, (str, float)) else 'table'}" for r, v in t.regions.items())
            lines.append(f"transport  {desc}" + (f"; {regs}" if regs else "; polarization from the library"))
        c = self.current
        if c is not None:
            if c.mode == "prescribed":
                lines.append(f"current    prescribed, |j_e| = {c.density:.4g} A/m^2 along {_vec(c.direction)} "
                             f"(electrons flow opposite)")
            else:
                lines.append(f"current    self-consistent, {c.density:.4g} A/m^2 from {c.source or 'top_electrode'} "
                             f"to {c.drain or 'bottom_electrode'}")
        lines.append("initial    " + ", ".join(f"{r} {v if isinstance(v, str) else _vec(v)}"
                                             for r, v in self.initial.states.items()))
        L = self.llg
        lines.append(f"llg        order {L.order}, dt {_fmt(L.dt, 's')}" + (f" .. {_fmt(L.dt_max, 's')}" if L.dt_max else "")
                     + f", demag {'on' if L.demag else 'off'}" + (f", fixed {', '.join(L.fixed)}" if L.fixed else "")
                     + (f", relax to {L.relax_tol:g} A/m" if L.relax else ", no relaxation")
                     + (f", H_ext {_vec(L.H_ext)} A/m" if L.H_ext else ""))
        s = self.run_cfg.stop
        lines.append(f"run        t_end {_fmt(self.run_cfg.t_end, 's')}" + (
            f", stop when <m{s.component}>_{s.region} {'>' if s.above is not None else '<'} "
            f"{s.above if s.above is not None else s.below:g}" if s else ""))
        lines.append(f"output     {self.output.dir or f'results/{self.name}_<time>'}")
        return "\n".join(lines)


# ---------------------------------------------------------------------------- helpers
def _msg(e: ParameterError) -> str:
    """The message of a ParameterError without its ``parameter: `` prefix."""
    s = str(e)
    p = f"{e.parameter}: "
    return s[len(p):] if s.startswith(p) else s


def _dotted(loc) -> str:
    out = ""
    for part in loc:
        if isinstance(part, str) and part.startswith(_TAG):
            continue
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def _to_parameter_error(e: ValidationError) -> ParameterError:
    """The first error of a pydantic ValidationError as ParameterError(dotted key, message);
    the others are appended as further lines."""
    items = []
    for err in e.errors(include_url=False):
        loc = tuple(err["loc"])
        ctx = err.get("ctx") or {}
        if err["type"] == "unknown_key":
            loc = loc + (ctx["key"],)
            msg = ctx["msg"]
        elif err["type"] == "fem_stt":
            msg = ctx["msg"]
        elif err["type"] == "missing":
            msg = "is required"
        elif err["type"] in ("model_type", "model_attributes_type", "dict_type"):
            msg = f"must be a table, got {err['input']!r}"
        else:
            msg = f"{err['msg'][0].lower() + err['msg'][1:]}, got {err['input']!r}"
        key = _dotted(loc) or "case"
        items.append((key, msg))
    key, msg = items[0]
    if len(items) > 1:
        msg += "".join(f"\n  {k}: {m}" for k, m in items[1:])
    return ParameterError(key, msg)


def _mixed(llg, rnd, vectors):
    """Callable m0: random everywhere, then the given vectors on their regions."""
    import dolfinx.fem
    mv = llg.mv

    def m0(x):
        vals = rnd(x)
        for r, v in vectors.items():
            dofs = dolfinx.fem.locate_dofs_topological(mv.V1, 3, llg.domain.cells(r))
            vals[:, dofs] = [[c] for c in v]
        return vals
    return m0


_OLD = ("summary.json", "checkpoint.npz", "case.toml", "scalars.csv", "provenance.json", "m.xdmf", "m.h5")
_OLD_PATTERNS = ("m_from_step*.xdmf", "m_from_step*.h5", "provenance_resume_step*.json", "case_resume_step*.toml")


def _remove_old_results(out: Path):
    """Remove the files a previous run wrote (``overwrite``), and nothing else."""
    for name in _OLD:
        (out / name).unlink(missing_ok=True)
    for pat in _OLD_PATTERNS:
        for p in out.glob(pat):
            p.unlink()


def _dump_toml_comment(case: Case) -> str:
    """A case built from a dict has no source text: record its SI values as a TOML comment block."""
    return "# case built from a dict; SI values:\n" + "\n".join(
        "# " + line for line in json.dumps(case.model_dump(by_alias=True), indent=1, default=str).splitlines()) + "\n"


def read_msh_groups(path: Union[str, Path]):
    """Names of the 3D and 2D physical groups of a Gmsh ``.msh`` (ASCII or binary), read from
    its ``$PhysicalNames`` section without loading the mesh; ``(None, None)`` if unreadable."""
    cells, facets = [], []
    try:
        with open(path, "rb") as f:
            inside = False
            for raw in f:
                line = raw.decode("latin-1").strip()
                if line == "$PhysicalNames":
                    inside = True
                    next(f)
                    continue
                if line == "$EndPhysicalNames":
                    return cells, facets
                if line.startswith("$") and line not in ("$MeshFormat", "$EndMeshFormat") and not inside:
                    if line in ("$Entities", "$Nodes", "$Elements", "$PartitionedEntities"):
                        return [], []  # no names before the mesh data: no named groups
                if inside:
                    parts = line.split(maxsplit=2)
                    dim, name = int(parts[0]), parts[2].strip().strip('"')
                    (cells if dim == 3 else facets if dim == 2 else []).append(name)
    except (OSError, ValueError, IndexError, StopIteration):
        return None, None
    return None, None


#: The models a case file can select with a top-level ``model = "..."`` key: name ->
#: ``"module:callable"``. The callable takes ``(text, base_dir, source)`` and returns a case
#: object with ``describe() -> str`` and ``run(comm=None, output=None, overwrite=False,
#: resume=False, progress=True, mesh_dir=None) -> Path`` (what ``fem-stt check`` / ``run`` call).
#: Without the key a case is the micromagnetic/spin-transport :class:`Case` of this module.
MODELS: Dict[str, str] = {
    "micromagnetic": "fem_stt.config:micromagnetic_case",
    "qdd": "fem_stt.quantum.qdd.case:qdd_case",
    "qllg": "fem_stt.atomistic.qllg.case:qllg_case",
    "negf": "fem_stt.atomistic.negf.case:negf_case",
}


def micromagnetic_case(text: str, base_dir: Union[str, Path, None] = None, source: Optional[Path] = None) -> Case:
    """The :class:`Case` of a case file's text (an optional ``model = "micromagnetic"`` key is dropped)."""
    data = tomllib.loads(text)
    data.pop("model", None)
    case = Case.from_dict(data, base_dir)
    case._text, case._source = text, source
    return case


def _model_loader(name: str):
    import importlib
    mod, _, attr = MODELS[name].partition(":")
    obj = importlib.import_module(mod)
    for part in attr.split("."):
        obj = getattr(obj, part)
    return obj


def load_case(path: Union[str, Path]):
    """Read and validate a case file (no meshing): returns a :class:`Case` with SI values, or
    the case object of the model named by the file's top-level ``model`` key (:data:`MODELS`).

    Raises FileNotFoundError, or ParameterError naming the dotted key of the first problem."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"case file {path} does not exist")
    text = path.read_text()
    try:
        model = tomllib.loads(text).get("model", "micromagnetic")
    except tomllib.TOMLDecodeError as e:
        raise ParameterError(str(path), f"not valid TOML: {e}") from None
    if model not in MODELS:
        raise ParameterError("model", f"must be one of {sorted(MODELS)}, got {model!r}")
    return _model_loader(model)(text, base_dir=path.resolve().parent, source=path)
