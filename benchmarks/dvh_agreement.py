"""Agreement of the DVH engine with Eclipse and dicompyler-core on breast-boost, per ROI.

Run: ``PYTHONPATH=src python -m benchmarks.dvh_agreement``. For every ROI with a planning-system
DVH: volume (cm3), mean, D95 and D2 (Gy) of the planning system (volume and D95/D2 from its
binned DVH, the mean from its DVHMeanDose, stored in percent of the 14 Gy prescription), and
the deviations of rtoutcomes and of dicompyler-core 0.5.6 (the fixture written by
dicompyler_reference.py): volume and mean in %, D95 and D2 in Gy.
"""

from __future__ import annotations

import json
from pathlib import Path

from rtoutcomes.clinical.dvh import structure_dvh
from rtoutcomes.io.dicom_rt import read_rtdose, read_rtstruct

ROOT = Path(__file__).resolve().parents[1]
FOLDER = ROOT.parent / "shared" / "data" / "dicom" / "breast-boost"
FIXTURE = ROOT / "tests" / "reference" / "fixtures" / "dicompyler_core_breast_boost.json"
PRESCRIPTION_GY = 14.0


def main() -> None:
    structures = read_rtstruct(FOLDER / "rtss.dcm")
    grid = read_rtdose(FOLDER / "rtdose.dcm")
    dcc = json.loads(FIXTURE.read_text())["rois"]
    print("deviation from Eclipse: ours | dicompyler-core (volume, mean in %; D95, D2 in Gy)")
    header = (
        f"{'ROI':<16}{'TPS cm3':>9}{'vol ours':>9}{'dcc':>7}{'TPS mean':>9}{'mean ours':>10}"
        f"{'dcc':>7}{'TPS D95':>8}{'ours':>8}{'dcc':>8}{'TPS D2':>8}{'ours':>8}{'dcc':>8}"
    )
    print(header)
    for number, tps in sorted(grid.tps_dvhs.items()):
        structure = structures.structures[number]
        dvh = structure_dvh(structure, grid)
        theirs = dcc[str(number)]
        volume, mean = tps.total_volume_cc, tps.summary_gy(PRESCRIPTION_GY)["mean"] or 0.0
        d95, d2 = tps.d_percent(95), tps.d_percent(2)

        def pct(value: float, reference: float) -> float:
            return 100 * (value / reference - 1)

        print(
            f"{structure.name:<16}{volume:>9.2f}{pct(dvh.volume_cc, volume):>+9.2f}"
            f"{pct(theirs['volume_cc'], volume):>+7.2f}{mean:>9.3f}"
            f"{pct(dvh.dmean_gy, mean):>+10.2f}{pct(theirs['mean_gy'], mean):>+7.2f}"
            f"{d95:>8.3f}{dvh.d_percent(95) - d95:>+8.3f}{theirs['d95_gy'] - d95:>+8.3f}"
            f"{d2:>8.3f}{dvh.d_percent(2) - d2:>+8.3f}{theirs['d2_gy'] - d2:>+8.3f}"
        )


if __name__ == "__main__":
    main()
