"""Linking by Study UID when a plan's structure set is not referenced or not in the folder.

Three plans, each a copy of breast-boost in its own study (``derive_plan``): the first names no
structure set (its ReferencedStructureSetSequence removed) and its study holds one, which it
is linked to ("linked by study"); the second references a structure set that is not exported
and its study holds two: ambiguous, refused; the third references one that is not exported
and its study holds none: an orphan plan. Nothing else links across studies.
"""

from __future__ import annotations

from pathlib import Path

import pydicom
import pytest

from rtoutcomes.io.dicom_index import index_folder, link_plans
from rtoutcomes.io.dicom_rt_synthetic import derive_plan

MISSING = "1.2.826.0.1.3680043.8.498.999"


def _edit(path: Path, change: object) -> None:
    dataset = pydicom.dcmread(path)
    change(dataset)  # type: ignore[operator]
    dataset.save_as(path)


@pytest.fixture(scope="module")
def folder(
    tmp_path_factory: pytest.TempPathFactory, breast_boost_dir: Path
) -> tuple[Path, dict[str, dict[str, str]]]:
    root = tmp_path_factory.mktemp("study-fallback")
    uids = {
        case: derive_plan(
            breast_boost_dir, root / case, seed=f"fallback-{case}", patient_id=f"P-{case}"
        )
        for case in ("one", "two", "none")
    }

    def unreference(ds: pydicom.Dataset) -> None:
        del ds.ReferencedStructureSetSequence

    def point_elsewhere(ds: pydicom.Dataset) -> None:
        ds.ReferencedStructureSetSequence[0].ReferencedSOPInstanceUID = MISSING

    _edit(root / "one" / "rtplan.dcm", unreference)
    for case in ("two", "none"):
        _edit(root / case / "rtplan.dcm", point_elsewhere)
    # a second structure set in the study of "two" (another SOP Instance UID, same study)
    second = pydicom.dcmread(root / "two" / "rtss.dcm")
    copy_uid = pydicom.uid.UID(MISSING + ".2")
    second.SOPInstanceUID = second.file_meta.MediaStorageSOPInstanceUID = copy_uid
    second.save_as(root / "two" / "rtss-copy.dcm")
    (root / "none" / "rtss.dcm").unlink()
    return root, uids


def test_plan_links_to_the_one_structure_set_of_its_study(
    folder: tuple[Path, dict[str, dict[str, str]]],
) -> None:
    root, uids = folder
    links, problems = link_plans(index_folder(root))
    assert [link.plan.sop_uid for link in links] == [uids["one"]["RTPLAN"]]
    link = links[0]
    assert link.structure_set.sop_uid == uids["one"]["RTSTRUCT"]
    assert link.how == ("same study",)
    assert [d.sop_uid for d in link.doses] == [uids["one"]["RTDOSE"]]
    by_study = [p for p in problems if p.kind == "linked by study"]
    assert len(by_study) == 1 and Path(by_study[0].subject) == root / "one" / "rtplan.dcm"
    assert uids["one"]["RTSTRUCT"] in by_study[0].reason


def test_two_structure_sets_in_the_study_are_ambiguous_and_none_is_an_orphan(
    folder: tuple[Path, dict[str, dict[str, str]]],
) -> None:
    root, uids = folder
    _, problems = link_plans(index_folder(root))
    refused = {
        Path(p.subject).parent.name: p.reason for p in problems if p.kind == "no structure set"
    }
    assert sorted(refused) == ["none", "two"]
    assert refused["two"] == (
        f"RTPLAN {uids['two']['RTPLAN']}: RTSTRUCT {MISSING} not in the "
        "folder, and 2 in its study: ambiguous"
    )
    assert refused["none"] == (
        f"RTPLAN {uids['none']['RTPLAN']}: RTSTRUCT {MISSING} not in the folder, none in its study"
    )
    # negative control: the same plan referencing its own structure set links by UID
    plan = pydicom.dcmread(root / "two" / "rtplan.dcm")
    plan.ReferencedStructureSetSequence[0].ReferencedSOPInstanceUID = uids["two"]["RTSTRUCT"]
    plan.save_as(root / "two" / "rtplan.dcm")
    try:
        links, problems = link_plans(index_folder(root))
        two = [link for link in links if link.plan.sop_uid == uids["two"]["RTPLAN"]]
        assert len(two) == 1 and two[0].how == ("referenced UID",)
        assert two[0].structure_set.sop_uid == uids["two"]["RTSTRUCT"]
    finally:
        plan.ReferencedStructureSetSequence[0].ReferencedSOPInstanceUID = MISSING
        plan.save_as(root / "two" / "rtplan.dcm")
