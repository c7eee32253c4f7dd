"""The write path's checks on the rows a change can affect (``registry/scope.py``) refuse
exactly what the checks on the whole registry refuse, with the same messages.

The registry is the mini registry copied four times (12 patients; ids suffixed -0..-3). Each
change below is applied as a dry run twice: as ``apply_changes`` does it, and with the scope
switched off (the whole registry read and checked). Every violating change is refused by the
whole-registry check (so each is a real violation: the cases' own control) and by the scoped
one with the same problems; every valid change is accepted by both, and its checks did read a
part of the registry only. Negative control: a scope that keeps only the changed rows (not
their patients' other rows) lets violations through, and this comparison catches it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from mini_registry import Tables, mini_registry, write_csv_folder

from rtoutcomes.registry import scope as scope_module
from rtoutcomes.registry.changes import ChangeSet, apply_changes
from rtoutcomes.registry.importer import import_registry
from rtoutcomes.registry.tables import read_rows
from rtoutcomes.registry.validation import ImportRejected

COPIES = 4
ID_COLUMNS = {
    "candidate_id",
    "patient_id",
    "lesion_id",
    "course_id",
    "assessment_id",
    "event_id",
    "toxicity_id",
    "therapy_id",
}


def copied(tables: Tables, copies: int) -> Tables:
    """``tables`` ``copies`` times over, every id suffixed -k (registry_meta once)."""
    out: Tables = {}
    for name, rows in tables.items():
        out[name] = (
            rows
            if name == "registry_meta"
            else [
                {c: f"{v}-{k}" if c in ID_COLUMNS and v else v for c, v in row.items()}
                for k in range(copies)
                for row in rows
            ]
        )
    return out


PATIENT = {
    "sex": "female",
    "birth_date": "1970-01-01",
    "diagnosis_date": "2018-01-01",
    "histology_subtype": "leiomyosarcoma",
    "who_family": "smooth muscle tumours",
    "fnclcc_grade": "2",
    "disease_setting": "oligometastasis",
    "lesions_at_first_sbrt": "1",
}

VIOLATIONS: dict[str, ChangeSet] = {
    "reference to a missing lesion": ChangeSet(
        rows={
            "assessments": [
                {
                    "assessment_id": "A90",
                    "lesion_id": "L99-0",
                    "assessment_date": "2020-01-01",
                    "modality": "CT",
                }
            ]
        }
    ),
    "deleted lesion with children": ChangeSet(deletes={"lesions": ["L01-0"]}),
    "deleted patient with rows": ChangeSet(deletes={"patients": ["P03-2"]}),
    "id differing only by case": ChangeSet(rows={"patients": [{"patient_id": "p01-1", **PATIENT}]}),
    "id differing only by case, screened": ChangeSet(
        rows={
            "patients": [{"patient_id": "p02-3", **PATIENT}],
            "screened_candidates": [
                {
                    "candidate_id": "SC91",
                    "screening_date": "2017-12-01",
                    "eligible": "yes",
                    "patient_id": "p02-3",
                }
            ],
        }
    ),
    "Cyrillic look-alike id": ChangeSet(
        rows={
            "assessments": [
                {
                    "assessment_id": "A9\u0410",
                    "lesion_id": "L01-0",
                    "assessment_date": "2020-01-01",
                    "modality": "CT",
                }
            ]
        }
    ),
    "therapy before birth": ChangeSet(
        rows={"systemic_therapies": [{"therapy_id": "S01-0", "start_date": "1901-01-01"}]}
    ),
    "scan before birth": ChangeSet(
        rows={"assessments": [{"assessment_id": "A01-1", "assessment_date": "1901-01-01"}]}
    ),
    "event in the future": ChangeSet(
        rows={"patient_events": [{"event_id": "E05-0", "event_date": "2099-01-01"}]}
    ),
    "grade 5 without death": ChangeSet(rows={"toxicities": [{"toxicity_id": "T02-3", "grade": 5}]}),
    "misspelt registry_meta key": ChangeSet(
        rows={"registry_meta": [{"key": "data_cutof_date", "value": "2023-06-30"}]}
    ),
    "enrolled patient's screening deleted": ChangeSet(deletes={"screened_candidates": ["SC4-1"]}),
    "new patient never screened": ChangeSet(rows={"patients": [{"patient_id": "P90", **PATIENT}]}),
    "screening of another patient moved away": ChangeSet(
        rows={"screened_candidates": [{"candidate_id": "SC1-0", "patient_id": "P03-1"}]}
    ),
    "second death": ChangeSet(
        rows={
            "patient_events": [
                {
                    "event_id": "E90",
                    "patient_id": "P01-2",
                    "event_type": "death",
                    "event_date": "2021-03-20",
                }
            ]
        }
    ),
    "SBRT before the diagnosis": ChangeSet(
        rows={"patients": [{"patient_id": "P02-1", "diagnosis_date": "2019-06-01"}]}
    ),
    "course ends before it starts": ChangeSet(
        rows={"sbrt_courses": [{"course_id": "C03-2", "end_date": "2019-03-01"}]}
    ),
    "SBRT start after the death": ChangeSet(
        rows={
            "sbrt_courses": [
                {"course_id": "C01-0", "start_date": "2021-04-01", "end_date": "2021-04-05"}
            ]
        }
    ),
    "death before the first SBRT": ChangeSet(
        rows={"patient_events": [{"event_id": "E03-3", "event_date": "2018-12-01"}]}
    ),
    "lesion moved to another patient (its toxicity and progression stay)": ChangeSet(
        rows={"lesions": [{"lesion_id": "L01-0", "patient_id": "P03-0"}]}
    ),
    "local progression of another patient's lesion": ChangeSet(
        rows={"patient_events": [{"event_id": "E01-0", "lesion_id": "L02-0"}]}
    ),
    "toxicity of another patient's course": ChangeSet(
        rows={"toxicities": [{"toxicity_id": "T01-1", "course_id": "C02-1"}]}
    ),
    "eligible candidate without a patient": ChangeSet(
        rows={
            "screened_candidates": [
                {"candidate_id": "SC90", "screening_date": "2020-01-01", "eligible": "yes"}
            ]
        }
    ),
    "covered volume larger than the target": ChangeSet(
        rows={"dosimetry": [{"course_id": "C01-3", "tv_piv_cc": 40}]}
    ),
    "therapy ends before it starts": ChangeSet(
        rows={"systemic_therapies": [{"therapy_id": "S02-2", "end_date": "2020-01-01"}]}
    ),
    "age disagrees with the birth date": ChangeSet(
        rows={"patients": [{"patient_id": "P03-0", "age_at_sbrt_years": 30}]}
    ),
    "first screening row of an unscreened registry": ChangeSet(),  # set in the test
}

VALID: dict[str, ChangeSet] = {
    "a new scan": ChangeSet(
        rows={
            "assessments": [
                {
                    "assessment_id": "A90",
                    "lesion_id": "L02-1",
                    "assessment_date": "2020-02-01",
                    "modality": "CT",
                    "longest_diameter_mm": 14,
                }
            ]
        }
    ),
    "a corrected size": ChangeSet(rows={"lesions": [{"lesion_id": "L01-2", "size_cm": 4.7}]}),
    "a deleted scan": ChangeSet(deletes={"assessments": ["A05-3"]}),
    "a new patient, screened, with a lesion": ChangeSet(
        rows={
            "patients": [{"patient_id": "P90", **PATIENT}],
            "screened_candidates": [
                {
                    "candidate_id": "SC90",
                    "screening_date": "2019-01-01",
                    "eligible": "yes",
                    "patient_id": "P90",
                }
            ],
            "lesions": [
                {"lesion_id": "L90", "patient_id": "P90", "site_category": "lung", "size_cm": 2.0}
            ],
        }
    ),
    "a death after the last contact": ChangeSet(
        rows={
            "patient_events": [
                {
                    "event_id": "E90",
                    "patient_id": "P03-1",
                    "event_type": "death",
                    "event_date": "2023-06-10",
                }
            ]
        }
    ),
}


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> str:
    folder = tmp_path_factory.mktemp("scoped")
    db = folder / "r.db"
    import_registry(write_csv_folder(copied(mini_registry(), COPIES), folder / "csv"), db)
    return str(db)


def outcome(db: str, changes: ChangeSet) -> list[str]:
    """The problems of a dry run (empty: accepted)."""
    try:
        apply_changes(db, changes, dry_run=True, reason="test")
    except ImportRejected as refused:
        return [str(p) for p in refused.problems]
    return []


@pytest.fixture
def whole_registry(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """``apply_changes`` with the scope switched off: every check on the whole registry."""
    with monkeypatch.context() as patched:
        patched.setattr(scope_module, "change_scope", lambda *args: None)
        yield


def both(
    db: str, changes: ChangeSet, monkeypatch: pytest.MonkeyPatch
) -> tuple[list[str], list[str]]:
    scoped = outcome(db, changes)
    with monkeypatch.context() as patched:
        patched.setattr(scope_module, "change_scope", lambda *args: None)
        full = outcome(db, changes)
    return scoped, full


@pytest.mark.parametrize(
    "case", sorted(set(VIOLATIONS) - {"first screening row of an unscreened registry"})
)
def test_scoped_checks_refuse_what_the_whole_registry_check_refuses(
    case: str, registry: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    scoped, full = both(registry, VIOLATIONS[case], monkeypatch)
    assert full, f"{case}: not a violation (the case's control)"
    assert scoped == full


@pytest.mark.parametrize("case", sorted(VALID))
def test_valid_changes_are_accepted_from_a_part_of_the_registry(
    case: str, registry: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[scope_module.Scope | None] = []
    real = scope_module.change_scope

    def spy(*args: object) -> scope_module.Scope | None:
        seen.append(real(*args))  # type: ignore[arg-type]
        return seen[-1]

    with monkeypatch.context() as patched:
        patched.setattr(scope_module, "change_scope", spy)
        assert outcome(registry, VALID[case]) == []
    assert seen[0] is not None
    stored = read_rows(registry)
    assert len(seen[0].rows["patients"]) <= 2 < len(stored["patients"])
    assert both(registry, VALID[case], monkeypatch) == ([], [])


def test_the_first_screening_row_checks_every_patient(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tables = copied(mini_registry(), 2)
    tables["screened_candidates"] = []
    db = str(tmp_path / "r.db")
    import_registry(write_csv_folder(tables, tmp_path / "csv"), db)
    first = ChangeSet(
        rows={
            "screened_candidates": [
                {
                    "candidate_id": "SC1-0",
                    "screening_date": "2018-12-01",
                    "eligible": "yes",
                    "patient_id": "P01-0",
                }
            ]
        }
    )
    scoped, full = both(db, first, monkeypatch)
    assert len(full) == 5  # the five other patients were never screened
    assert scoped == full


def _without_rows_elsewhere(*args: object) -> scope_module.Scope | None:
    found = REAL_SCOPE(*args)  # type: ignore[arg-type]
    return None if found is None else scope_module.Scope(found.rows, frozenset())


REAL_SCOPE = scope_module.change_scope
BROKEN_SCOPES = {
    # the patients' other rows left out: only the changed rows are checked
    "changed rows alone": (
        "_patient_rows",
        lambda connection, patients: {name: [] for name in scope_module.TABLE_BY_NAME},
    ),
    # unique values and deleted keys not compared with rows outside the scope
    "nothing reaches outside": ("_reaches_outside", lambda *args: False),
    # the screening rule not told that other patients were screened
    "no rows elsewhere": ("change_scope", _without_rows_elsewhere),
}


@pytest.mark.parametrize("broken", sorted(BROKEN_SCOPES))
def test_negative_control_a_broken_scope_is_caught(
    broken: str, registry: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    name, replacement = BROKEN_SCOPES[broken]
    monkeypatch.setattr(scope_module, name, replacement)
    missed = [
        case
        for case, changes in VIOLATIONS.items()
        if changes.rows or changes.deletes
        if len(set(map(tuple, both(registry, changes, monkeypatch)))) == 2
    ]
    assert missed, f"{broken}: every violation still refused as by the whole registry"
