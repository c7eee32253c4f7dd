"""De-identify a folder of DICOM RT files for sharing, keeping the RT references linking.

dicognito (https://github.com/blairconrad/dicognito) replaces names, IDs, addresses and dates
with consistent pseudonyms and every UID (SOP Instance, Study, Series, Frame of Reference and
the referenced ones: ReferencedRTPlanSequence, ReferencedStructureSetSequence...) with one
derived from the original and a secret seed, so that an RTDOSE still references its RTPLAN and
the plan its structure set. (deid's default recipe removes UIDs that RT needs.) The seed is the
key file's secret: the same key gives the same pseudonyms and UIDs on every run and on every
machine, so that later exports of the same patients line up; without it the pseudonyms cannot
be reproduced. The key file is the registry's de-identified export's (``rtoutcomes init-key``,
``registry.deidentify``): the PatientID becomes the pseudonym that export gives the registry
patient of that id, and RTPlanDate is shifted back by that patient's offset, so that
``dosimetry-import`` of the copy into the de-identified registry matches as on the originals.
Other dates are shifted by dicognito (intervals within a patient are kept).

The output folder holds ``<pseudonymous PatientID>/<Modality>_<SOPInstanceUID>.dcm`` (the
input's file and folder names may carry names, so they are not kept); files that are not DICOM
are not copied. After writing, the output is indexed and linked again
(:mod:`rtoutcomes.io.dicom_index`): every link of the input must be there, made the same way,
and no original PatientID or SOP Instance UID may remain; otherwise the output is deleted and
the reason given.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from rtoutcomes.errors import RtOutcomesError
from rtoutcomes.io.dicom_index import DicomIndex, index_folder, link_plans

__all__ = ["DeidentifyError", "DeidentifyReport", "check_links", "deidentify_folder"]


class DeidentifyError(RtOutcomesError):
    """A key file, input or output that cannot be used, or an output whose links broke."""


@dataclass(frozen=True)
class DeidentifyReport:
    files: int  # DICOM files written
    skipped: int  # files that are not DICOM (not copied)
    links: int  # plan -> structure set -> dose links found again in the output

    def text(self) -> str:
        return (
            f"{self.files} DICOM file(s) de-identified, {self.skipped} other file(s) not "
            f"copied; {self.links} plan link(s) checked in the output"
        )


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
    source: str | Path,
    out: str | Path,
    secret: str,
    *,
    patient_pseudonym: Callable[[str], str] | None = None,
    shift_days: Callable[[str], int] | None = None,
) -> DeidentifyReport:
    """De-identify every DICOM file under ``source`` into the new folder ``out``.

    ``secret`` seeds dicognito. ``patient_pseudonym(patient_id)`` and ``shift_days(patient_id)``
    (the registry's de-identified export's, ``registry.deidentify.dicom_identity``) then set the
    PatientID and shift RTPlanDate back, so that the copy matches the de-identified registry.
    """
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
                patient_id = str(dataset.get("PatientID", "") or "")
                plan_date = str(dataset.get("RTPlanDate", "") or "")
                anonymizer.anonymize(dataset)
                if patient_pseudonym is not None and patient_id:
                    dataset.PatientID = patient_pseudonym(patient_id)
                if shift_days is not None and "RTPlanDate" in dataset:
                    dataset.RTPlanDate = _shifted(plan_date, shift_days(patient_id))
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
    return DeidentifyReport(files, skipped, len(links))


def _shifted(date: str, days: int) -> str:
    """A DICOM date (YYYYMMDD) ``days`` earlier; an unreadable one is removed (empty)."""
    try:
        parsed = dt.datetime.strptime(date[:8], "%Y%m%d").date()
    except ValueError:
        return ""
    return (parsed - dt.timedelta(days=days)).strftime("%Y%m%d")
