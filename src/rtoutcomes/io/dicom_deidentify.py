"""De-identify a folder of DICOM RT files for sharing, keeping the RT references linking.

dicognito (https://github.com/blairconrad/dicognito) replaces names, IDs, addresses and dates
with consistent pseudonyms and every UID (SOP Instance, Study, Series, Frame of Reference and
the referenced ones: ReferencedRTPlanSequence, ReferencedStructureSetSequence...) with one
derived from the original and a secret seed, so that an RTDOSE still references its RTPLAN and
the plan its structure set. (deid's default recipe removes UIDs that RT needs.) The seed is the
key file's secret: the same key gives the same pseudonyms and UIDs on every run and on every
machine, so that later exports of the same patients line up; without it the pseudonyms cannot
be reproduced. Dates are shifted by one offset per patient (intervals are kept).

The output folder holds ``<pseudonymous PatientID>/<Modality>_<SOPInstanceUID>.dcm`` (the
input's file and folder names may carry names, so they are not kept); files that are not DICOM
are not copied. After writing, the output is indexed and linked again
(:mod:`rtoutcomes.io.dicom_index`): every link of the input must be there, made the same way,
and no original PatientID or SOP Instance UID may remain; otherwise the output is deleted and
the reason given.
"""

from __future__ import annotations

import os
import shutil
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from rtoutcomes.errors import RtOutcomesError
from rtoutcomes.io.dicom_index import DicomIndex, index_folder, link_plans

__all__ = ["DeidentifyError", "DeidentifyReport", "check_links", "deidentify_folder", "read_key"]



class DeidentifyError(RtOutcomesError):
    """A key file, input or output that cannot be used, or an output whose links broke."""


@dataclass(frozen=True)
class DeidentifyReport:
    files: int  # DICOM files written
    skipped: int  # files that are not DICOM (not copied)
    links: int  # plan -> structure set -> dose links found again in the output
    created_key: bool

    def text(self) -> str:
        key = "new key file written (keep it secret, keep it safe)" if self.created_key else (
            "existing key file used")
        return (f"{self.files} DICOM file(s) de-identified, {self.skipped} other file(s) not "
                f"copied; {self.links} plan link(s) checked in the output; {key}")


def read_key(path: str | Path, *, create: bool = True) -> tuple[str, bool]:
    """The secret of a key file (``io.keyfile``: the registry's de-identified export uses the
    same file and rules), creating one (random, owner-only) when it does not exist.

    Returns (secret as hex, created)."""
    from rtoutcomes.io.keyfile import init_key
    from rtoutcomes.io.keyfile import read_key as read_secret

    file = Path(path)
    created = False
    if not file.exists():
        if not create:
            raise DeidentifyError(f"{file}: no such key file")
        init_key(file)
        created = True
    return read_secret(file).hex(), created


def _link_shapes(index: DicomIndex) -> Counter[tuple[str, ...]]:
    """Each link as (summation type, number of doses, how linked): what must survive."""
    links, problems = link_plans(index)
    shapes: Counter[tuple[str, ...]] = Counter(
        (link.summation_type, str(len(link.doses)), *link.how) for link in links
    )
    shapes.update(("problem", p.kind) for p in problems)
    return shapes


def check_links(original: DicomIndex, deidentified: DicomIndex) -> None:
    """Refuse (``DeidentifyError``) an output whose links differ from the input's or that
    still holds an original PatientID or SOP Instance UID."""
    before, after = _link_shapes(original), _link_shapes(deidentified)
    if before != after:
        lost = before - after
        gained = after - before
        raise DeidentifyError(
            f"the de-identified files do not link as the originals do (lost: {dict(lost)}; "
            f"new: {dict(gained)})"
        )
    left = set(original.objects) & set(deidentified.objects)
    if left:
        raise DeidentifyError(f"original SOP Instance UID(s) left in the output: {sorted(left)}")
    ids = {h.patient_id for h in original.objects.values() if h.patient_id}
    kept = ids & {h.patient_id for h in deidentified.objects.values()}
    if kept:
        raise DeidentifyError(f"{len(kept)} original PatientID(s) left in the output")


def deidentify_folder(
    source: str | Path, out: str | Path, key_file: str | Path
) -> DeidentifyReport:
    """De-identify every DICOM file under ``source`` into the new folder ``out``."""
    import pydicom
    from dicognito.anonymizer import Anonymizer
    from pydicom.errors import InvalidDicomError

    base, target = Path(source), Path(out)
    if not base.is_dir():
        raise DeidentifyError(f"{base}: not a folder")
    if target.exists() and any(target.iterdir()):
        raise DeidentifyError(f"{target}: the output folder exists and is not empty")
    if target.resolve().is_relative_to(base.resolve()):
        raise DeidentifyError(f"{target}: the output folder cannot lie inside the input")
    secret, created = read_key(key_file)
    original = index_folder(base)
    anonymizer = Anonymizer(seed=secret)
    staging = target.with_name(f".{target.name}.partial")
    shutil.rmtree(staging, ignore_errors=True)
    files = skipped = 0
    try:
        for folder, dirs, names in os.walk(base):
            dirs.sort()
            for name in sorted(names):
                try:
                    dataset = pydicom.dcmread(Path(folder) / name)
                except (InvalidDicomError, OSError, ValueError, EOFError):
                    skipped += 1
                    continue
                anonymizer.anonymize(dataset)
                patient = str(dataset.get("PatientID", "") or "unknown")
                modality = str(dataset.get("Modality", "") or "OT")
                written = staging / patient / f"{modality}_{dataset.SOPInstanceUID}.dcm"
                written.parent.mkdir(parents=True, exist_ok=True)
                if written.exists():  # an exact duplicate of the input: one copy is enough
                    continue
                dataset.save_as(written)
                files += 1
        deidentified = index_folder(staging)
        check_links(original, deidentified)
        if target.exists():
            target.rmdir()
        staging.rename(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    links, _ = link_plans(index_folder(target))
    return DeidentifyReport(files, skipped, len(links), created)
