"""Reference DVHs of breast-boost by dicompyler-core, written once to a JSON fixture.

Runs in a separate environment, because dicompyler-core 0.5.6 needs pydicom 2.x:

    python3 -m venv /work/venv-dcc
    /work/venv-dcc/bin/pip install "dicompyler-core==0.5.6" "pydicom<3" "numpy<2" "matplotlib<3.9"
    /work/venv-dcc/bin/python benchmarks/dicompyler_reference.py [SHARED_DIR]

Writes tests/reference/fixtures/dicompyler_core_breast_boost.json: for every ROI with contours,
dicompyler-core's own volume (cm3), mean, max, D95 and D2 (Gy) with its default settings
(dose-grid resolution, no interpolation). The tests compare rtoutcomes' DVH engine with these
numbers and with the planning system's DVHs; this script only calls dicompyler-core's public API.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "tests" / "reference" / "fixtures" / "dicompyler_core_breast_boost.json"


def main(argv: list[str]) -> int:
    import dicompylercore
    import pydicom
    from dicompylercore import dicomparser, dvhcalc

    shared = Path(argv[0]) if argv else ROOT.parent / "shared"
    folder = shared / "data" / "dicom" / "breast-boost"
    rtss, rtdose = folder / "rtss.dcm", folder / "rtdose.dcm"
    structures = dicomparser.DicomParser(str(rtss)).GetStructures()
    rois: dict[str, dict[str, float | str | int]] = {}
    started = time.perf_counter()
    for number, structure in sorted(structures.items()):
        dvh = dvhcalc.get_dvh(str(rtss), str(rtdose), number)
        if dvh.volume == 0:
            continue  # no contours (Areola)
        rois[str(number)] = {
            "name": structure["name"],
            "volume_cc": float(dvh.volume),
            "mean_gy": float(dvh.mean),
            "max_gy": float(dvh.max),
            "d95_gy": float(dvh.dose_constraint(95).value),
            "d2_gy": float(dvh.dose_constraint(2).value),
        }
    elapsed = time.perf_counter() - started
    result = {
        "source": "dicompyler-core dvhcalc.get_dvh with default options",
        "dicompyler_core_version": dicompylercore.__version__,
        "pydicom_version": pydicom.__version__,
        "data": "shared/data/dicom/breast-boost (rtss.dcm, rtdose.dcm)",
        "rois": rois,
    }
    FIXTURE.parent.mkdir(parents=True, exist_ok=True)
    FIXTURE.write_text(json.dumps(result, indent=2, sort_keys=True) + "\n")
    print(f"wrote {FIXTURE} ({len(rois)} ROIs, {elapsed:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
