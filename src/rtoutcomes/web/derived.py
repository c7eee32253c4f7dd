"""Derived endpoints and RECIST calls per patient, kept between requests.

A patient's derivation depends only on that patient's rows (and the registry's data cut-off),
so it is cached under a fingerprint of exactly those rows: a page fetches the patient's rows
(a few small queries), and reuses the cached derivation only when the fingerprint is the same.
A change made by anyone (the app, the command line, another server) changes the rows and so the
fingerprint, and the derivation is redone for that patient. At start-up the whole registry is
derived once in the background (one vectorised pass), so that first visits are fast too.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict

from rtoutcomes.errors import RtOutcomesError
from rtoutcomes.registry.tables import Rows
from rtoutcomes.web.patient import Derived, derive

MAX_CACHED = 20000
PATIENT_TABLES = (
    "patients",
    "screened_candidates",
    "lesions",
    "patient_events",
    "toxicities",
    "systemic_therapies",
    "sbrt_courses",
    "assessments",
    "dosimetry",
    "registry_meta",
)


def fingerprint(rows: Rows) -> str:
    """A digest of one patient's rows (``queries.patient_rows``' shape and order)."""
    digest = hashlib.sha256()
    for table in PATIENT_TABLES:
        digest.update(table.encode())
        for row in rows.get(table, []):
            digest.update(repr(sorted(row.items())).encode())
    return digest.hexdigest()


def group_by_patient(rows: Rows) -> dict[str, Rows]:
    """The whole registry's rows split into one ``Rows`` per patient, in the shape and order
    ``queries.patient_rows`` gives (rows are already sorted by primary key)."""
    groups: dict[str, Rows] = {
        str(p["patient_id"]): {t: [] for t in PATIENT_TABLES} for p in rows["patients"]
    }
    for group in groups.values():
        group["registry_meta"] = rows["registry_meta"]
    lesion_owner = {r["lesion_id"]: str(r["patient_id"]) for r in rows["lesions"]}
    course_owner = {r["course_id"]: lesion_owner.get(r["lesion_id"]) for r in rows["sbrt_courses"]}
    for p in rows["patients"]:
        groups[str(p["patient_id"])]["patients"].append(p)
    for table in (
        "screened_candidates",
        "lesions",
        "patient_events",
        "toxicities",
        "systemic_therapies",
    ):
        for r in rows[table]:
            if r.get("patient_id") is not None and str(r["patient_id"]) in groups:
                groups[str(r["patient_id"])][table].append(r)
    for table, owner_of in (
        ("sbrt_courses", lambda r: lesion_owner.get(r["lesion_id"])),
        ("assessments", lambda r: lesion_owner.get(r["lesion_id"])),
        ("dosimetry", lambda r: course_owner.get(r["course_id"])),
    ):
        for r in rows[table]:
            owner = owner_of(r)
            if owner in groups:
                groups[owner][table].append(r)
    return groups


class DerivedCache:
    """Fingerprint-checked ``Derived`` per patient (thread-safe, bounded)."""

    def __init__(self) -> None:
        self._items: OrderedDict[str, tuple[str, Derived]] = OrderedDict()
        self._lock = threading.Lock()
        self._deriving: dict[str, threading.Lock] = {}
        self.warm = False  # the whole registry was derived in one pass
        self.tried = False  # that pass has finished (or failed)

    def get(self, patient_id: str, rows: Rows) -> Derived:
        """The derivation of ``rows`` (one patient's), from the cache when they are unchanged.
        Two threads asking for the same changed patient (a page and the watcher) derive it
        once: the second waits for the first."""
        key = fingerprint(rows)
        found = self._lookup(patient_id, key)
        if found is not None:
            return found
        with self._lock:
            patient_lock = self._deriving.setdefault(patient_id, threading.Lock())
        with patient_lock:
            found = self._lookup(patient_id, key)
            if found is None:
                found = derive(rows)[patient_id]
                self._put(patient_id, key, found)
        return found

    def _lookup(self, patient_id: str, key: str) -> Derived | None:
        with self._lock:
            found = self._items.get(patient_id)
            if found is not None and found[0] == key:
                self._items.move_to_end(patient_id)
                return found[1]
        return None

    def _put(self, patient_id: str, key: str, derived: Derived) -> None:
        with self._lock:
            self._items[patient_id] = (key, derived)
            self._items.move_to_end(patient_id)
            while len(self._items) > MAX_CACHED:
                self._items.popitem(last=False)

    def warm_up(self, db: str) -> None:
        """Derive the whole registry once (in the caller's thread); when a record contradicts
        another the whole pass fails and patients are derived one by one on demand."""
        from rtoutcomes.registry.tables import read_rows

        try:
            rows = read_rows(db)
            groups = group_by_patient(rows)
            derived = derive(rows)
            if not any(d.problem for d in derived.values()):
                for pid, group in list(groups.items())[:MAX_CACHED]:
                    self._put(pid, fingerprint(group), derived[pid])
                self.warm = True
        except RtOutcomesError:
            pass
        finally:
            self.tried = True

    def warm_up_in_background(self, db: str) -> None:
        threading.Thread(
            target=self.warm_up, args=(db,), name="rtoutcomes-derive", daemon=True
        ).start()
