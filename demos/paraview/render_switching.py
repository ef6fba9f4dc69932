"""Render the magnetization reversal of the free layer from a run's ``m.xdmf`` to PNG frames (ParaView).

Run with ParaView's Python (Debian 12: ``apt-get install paraview xvfb``), headless with xvfb
(``-noreset``: without it Xvfb resets when pvbatch's first X connection closes, and pvbatch
aborts with "bad X server connection" in about half of the runs):

    xvfb-run -a -s "-noreset -screen 0 1280x1024x24" pvbatch demos/paraview/render_switching.py \
        results/spin_valve_<time> [--frames 4] [--region FM2] [--output DIR] [--size 1280 720]

It opens ``m.xdmf`` (one dataset per written step: point data m, s, spin_torque, H_d; cell
data ``regions``, named in ``m.regions.json``), scales the coordinates to nm (at ~1e-7 m
ParaView's float32 shading breaks up into black and white faces at close range), extracts
the free layer (``--region``: the cells whose ``regions`` tag is that layer's), colours its
surface by m_x (blue -1 ... red +1), draws arrows along m on its top face and the layers
below it as a translucent grey slab, and writes ``--frames`` PNGs at evenly spread written
times (first and last included) into ``--output`` (default ``<run>/frames``):
``frame_<k>.png``, and ``frames.csv`` with the time [s] of each frame and ParaView's volume
average <m> over the layer (IntegrateVariables), which equals the run's ``scalars.csv`` at
the same step.

The same by hand in the ParaView GUI: File > Open ``m.xdmf`` (reader "Xdmf3 Reader S"),
Apply; Filters > Threshold, Scalars ``regions``, lower and upper threshold = the layer's tag
(``m.regions.json``); colour by ``m`` / ``X``; Filters > Glyph (Orientation ``m``, Scale
Array none); Play. If faces shade black when zoomed in, insert first a Calculator with
"Coordinate Results" on and the expression ``coords*1e9`` (nm).
"""
import argparse
import csv
import json
import sys
from pathlib import Path

from paraview import simple as pv


def parse(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("run", help="run folder holding m.xdmf (or the .xdmf file itself)")
    ap.add_argument("--frames", type=int, default=4, help="number of frames (>= 1; default 4)")
    ap.add_argument("--region", default="FM2", help="layer drawn in colour with arrows (default FM2)")
    ap.add_argument("--output", default=None, help="folder for the PNGs (default <run>/frames)")
    ap.add_argument("--size", type=int, nargs=2, default=(1280, 720), metavar=("W", "H"), help="pixels")
    ap.add_argument("--arrows", type=int, default=80, help="about how many arrows on the top face (default 80)")
    a = ap.parse_args(argv)
    path = Path(a.run)
    a.xdmf = path if path.suffix == ".xdmf" else path / "m.xdmf"
    if not a.xdmf.is_file():
        ap.error(f"no XDMF file {a.xdmf}")
    if a.frames < 1:
        ap.error(f"--frames must be >= 1, got {a.frames}")
    a.output = Path(a.output) if a.output else a.xdmf.parent / "frames"
    return a


def frame_times(times, n):
    """n of the written times, evenly spread by index, first and last included."""
    if n == 1 or len(times) == 1:
        return [times[-1]]
    idx = sorted({round(k * (len(times) - 1) / (n - 1)) for k in range(n)})
    return [times[i] for i in idx]


def main(argv=None):
    a = parse(sys.argv[1:] if argv is None else argv)
    tags = json.loads(a.xdmf.with_suffix(".regions.json").read_text())["cells"]
    if a.region not in tags:
        sys.exit(f"--region {a.region!r} is not a region of {a.xdmf} ({sorted(tags)})")
    tag = tags[a.region]
    a.output.mkdir(parents=True, exist_ok=True)

    reader = pv.Xdmf3ReaderS(FileName=[str(a.xdmf)])
    reader.UpdatePipelineInformation()
    tv = reader.TimestepValues  # a sequence, or a bare float when the file holds one step
    times = ([float(x) for x in tv] if hasattr(tv, "__len__") else [float(tv)]) or [0.0]
    # coordinates in nm for rendering: at ~1e-7 m ParaView's shading (float32 normals) breaks up
    nm = pv.Calculator(Input=reader, CoordinateResults=1, Function="coords*1e9", ResultArrayName="x_nm")
    layer = pv.Threshold(Input=nm, Scalars=["CELLS", "regions"], LowerThreshold=tag, UpperThreshold=tag,
                         ThresholdMethod="Between")
    layer.UpdatePipeline(times[0])
    x0, x1, y0, y1, z0, z1 = layer.GetDataInformation().GetBounds()  # nm
    size = max(x1 - x0, y1 - y0)
    surface = pv.ExtractSurface(Input=layer)
    # the other regions, cut to a slab below the layer, as context
    others = pv.Threshold(Input=nm, Scalars=["CELLS", "regions"], LowerThreshold=tag, UpperThreshold=tag,
                          ThresholdMethod="Between", Invert=1)
    below = pv.Clip(Input=others, ClipType="Plane", Invert=0)
    below.ClipType.Origin = [0.0, 0.0, z0 - 0.75 * (z1 - z0)]
    below.ClipType.Normal = [0.0, 0.0, 1.0]
    # arrows: m sampled on a plane just under the top face, drawn just above it
    top = pv.Slice(Input=layer, SliceType="Plane")
    top.SliceType.Origin = [0.0, 0.0, z1 - 1e-3 * (z1 - z0)]
    top.SliceType.Normal = [0.0, 0.0, 1.0]
    lifted = pv.Transform(Input=top)
    lifted.Transform.Translate = [0.0, 0.0, 0.02 * (z1 - z0) + 0.01 * size]
    arrows = pv.Glyph(Input=lifted, GlyphType="Arrow", OrientationArray=["POINTS", "m"],
                      ScaleArray=["POINTS", "No scale array"], ScaleFactor=0.09 * size,
                      GlyphMode="Uniform Spatial Distribution (Surface Sampling)",
                      MaximumNumberOfSamplePoints=a.arrows, Seed=1)
    average = pv.IntegrateVariables(Input=layer, DivideCellDataByVolume=0)

    view = pv.CreateView("RenderView")
    view.ViewSize = list(a.size)
    view.OrientationAxesVisibility = 1
    view.Background = [1.0, 1.0, 1.0]
    try:  # ParaView >= 5.10: the background colour is used only without a palette
        view.UseColorPaletteForBackground = 0
    except AttributeError:
        pass
    rest = pv.Show(below, view)
    rest.Representation = "Surface"
    rest.AmbientColor = rest.DiffuseColor = [0.6, 0.6, 0.6]
    rest.Opacity = 0.25
    rest.ColorArrayName = ["POINTS", ""]
    shown = pv.Show(surface, view)
    pv.ColorBy(shown, ("POINTS", "m", "X"))
    lut = pv.GetColorTransferFunction("m")
    lut.ApplyPreset("Cool to Warm", True)
    lut.VectorMode = "Component"
    lut.VectorComponent = 0
    lut.RescaleTransferFunction(-1.0, 1.0)
    lut.AutomaticRescaleRangeMode = "Never"
    bar = pv.GetScalarBar(lut, view)
    bar.Title, bar.ComponentTitle = "m", "x"
    bar.TitleColor = bar.LabelColor = [0.1, 0.1, 0.1]
    shown.SetScalarBarVisibility(view, True)
    arrow_display = pv.Show(arrows, view)
    arrow_display.ColorArrayName = ["POINTS", ""]
    arrow_display.AmbientColor = arrow_display.DiffuseColor = [0.15, 0.15, 0.15]
    label = pv.Text(Text="")
    label_display = pv.Show(label, view)
    label_display.WindowLocation = "Upper Left Corner"
    label_display.FontSize = 14
    label_display.Justification = "Left"
    label_display.Color = [0.1, 0.1, 0.1]

    # camera: oblique view from the front (-y), the right (+x) and above, fitted to what is shown
    cam = view.GetActiveCamera()
    cx, cy, cz = (x0 + x1) / 2, (y0 + y1) / 2, (z0 + z1) / 2
    cam.SetFocalPoint(cx, cy, cz)
    cam.SetPosition(cx + 0.45 * size, cy - 0.9 * size, cz + 0.75 * size)
    cam.SetViewUp(0.0, 0.0, 1.0)
    view.ResetCamera(False)

    rows = []
    for k, t in enumerate(frame_times(times, a.frames)):
        view.ViewTime = t
        average.UpdatePipeline(t)
        integ = pv.servermanager.Fetch(average)
        vol = integ.GetCellData().GetArray("Volume").GetValue(0)
        m = integ.GetPointData().GetArray("m")
        avg = [m.GetComponent(0, c) / vol for c in range(3)]
        label.Text = (f"{a.region}: colour m_x, arrows m\nt = {t * 1e9:.3f} ns\n"
                      f"<m>_{a.region} = ({avg[0]:+.3f}, {avg[1]:+.3f}, {avg[2]:+.3f})")
        png = a.output / f"frame_{k:03d}.png"
        pv.SaveScreenshot(str(png), view, ImageResolution=list(a.size))
        rows.append([repr(t), str(png.name)] + [repr(v) for v in avg])
        print(f"{png}: t = {t:.4e} s, <m>_{a.region} = {[round(v, 4) for v in avg]}", flush=True)
    with open(a.output / "frames.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["t_s", "png", f"<mx>_{a.region}", f"<my>_{a.region}", f"<mz>_{a.region}"])
        w.writerows(rows)
    print(f"wrote {len(rows)} frames and frames.csv into {a.output}")


if __name__ == "__main__":
    main()
