"""Speed of the DVH engine on breast-boost, side by side with dicompyler-core.

Run: ``PYTHONPATH=src python -m benchmarks.dvh_speed [--repeat N] [--dcc-python PATH]``.
Prints the time to read the files and the time to compute the DVHs of every contoured ROI
(best and median of N runs), for rtoutcomes in this process and for dicompyler-core 0.5.6 in
its own environment (default /work/venv-dcc/bin/python; see dicompyler_reference.py), which
gets the files already parsed (pydicom datasets) so that both sides time the DVH work alone.
Times are CPU seconds of the process (``time.process_time``): on a machine shared with other
jobs they move far less than wall time; both sides import pydicom before timing.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from rtoutcomes.clinical.dvh import structure_dvh
from rtoutcomes.io.dicom_rt import read_rtdose, read_rtstruct

ROOT = Path(__file__).resolve().parents[1]
FOLDER = ROOT.parent / "shared" / "data" / "dicom" / "breast-boost"
DCC_PYTHON = os.environ.get("DCC_PYTHON", "/work/venv-dcc/bin/python")

# runs inside dicompyler-core's environment; prints JSON
DCC_SCRIPT = """
import json, sys, time
import pydicom
from dicompylercore import dicomparser, dvhcalc
folder, repeat = sys.argv[1], int(sys.argv[2])
t0 = time.process_time()
rtss = pydicom.dcmread(folder + "/rtss.dcm")
rtdose = pydicom.dcmread(folder + "/rtdose.dcm")
rois = sorted(dicomparser.DicomParser(rtss).GetStructures())
read = time.process_time() - t0
runs, per_roi = [], {}
for _ in range(repeat):
    t0 = time.process_time()
    for roi in rois:
        t1 = time.process_time()
        dvhcalc.get_dvh(rtss, rtdose, roi)
        per_roi.setdefault(roi, []).append(time.process_time() - t1)
    runs.append(time.process_time() - t0)
best = {str(k): min(v) for k, v in per_roi.items()}
print(json.dumps({"read": read, "runs": runs, "per_roi": best}))
"""


@dataclass
class Timing:
    read: float  # s, reading and parsing the files
    runs: list[float]  # s, DVHs of every ROI, one entry per run
    per_roi: dict[str, float]  # ROI number -> best s


def time_rtoutcomes(repeat: int) -> tuple[Timing, dict[str, str]]:
    import pydicom  # noqa: F401  (imported before timing, as on dicompyler-core's side)

    started = time.process_time()
    structures = read_rtstruct(FOLDER / "rtss.dcm")
    grid = read_rtdose(FOLDER / "rtdose.dcm")
    read = time.process_time() - started
    contoured = [s for s in structures.structures.values() if not s.is_empty]
    runs: list[float] = []
    per_roi: dict[str, list[float]] = {}
    for _ in range(repeat):
        run_start = time.process_time()
        for structure in contoured:
            roi_start = time.process_time()
            structure_dvh(structure, grid)
            per_roi.setdefault(str(structure.number), []).append(time.process_time() - roi_start)
        runs.append(time.process_time() - run_start)
    best = {number: min(times) for number, times in per_roi.items()}
    return Timing(read, runs, best), {str(s.number): s.name for s in contoured}


def time_dicompyler(repeat: int, python: str) -> Timing | None:
    if not Path(python).exists():
        return None
    out = subprocess.run(
        [python, "-c", DCC_SCRIPT, str(FOLDER), str(repeat)],
        capture_output=True,
        text=True,
        check=True,
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    return Timing(float(result["read"]), list(result["runs"]), dict(result["per_roi"]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--dcc-python", default=DCC_PYTHON)
    args = parser.parse_args()
    ours, names = time_rtoutcomes(args.repeat)
    theirs = time_dicompyler(args.repeat, args.dcc_python)
    print(
        f"breast-boost: DVHs of all {len(names)} contoured ROIs, CPU s (best / median of "
        f"{args.repeat} runs; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)"
    )
    print(f"{'tool':<24}{'read s':>8}{'best s':>9}{'median s':>10}")
    rows = [("rtoutcomes", ours)] + ([("dicompyler-core 0.5.6", theirs)] if theirs else [])
    for tool, timing in rows:
        best, median = min(timing.runs), statistics.median(timing.runs)
        print(f"{tool:<24}{timing.read:>8.2f}{best:>9.3f}{median:>10.3f}")
    if theirs is None:
        print(f"(dicompyler-core not run: {args.dcc_python} not found)")
    print()
    print(f"{'ROI':<18}{'rtoutcomes ms':>15}{'dicompyler-core ms':>20}")
    for number, name in names.items():
        other = theirs.per_roi.get(number) if theirs else None
        other_text = f"{other * 1000:>20.0f}" if other is not None else f"{'-':>20}"
        print(f"{name:<18}{ours.per_roi[number] * 1000:>15.0f}{other_text}")


if __name__ == "__main__":
    main()
