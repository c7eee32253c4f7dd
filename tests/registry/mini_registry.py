"""A small valid registry written by hand (3 patients), and writers for CSV folders and
workbooks. Tests inject one defect at a time into a fresh copy."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
from pathlib import Path

from rtoutcomes.registry.spec import TABLE_BY_NAME, TABLES

Tables = dict[str, list[dict[str, str]]]

_DATA: dict[str, list[str]] = {
    "registry_meta": [
        "name|Mini test registry",
        "synthetic|yes",
        "data_cutoff_date|2023-06-30",
        "description|hand-written registry for the tests",
    ],
    "patients": [
        "P01|female|1960-04-12||2015-03-01|2018-06-15|myxofibrosarcoma|fibroblastic and "
        "myofibroblastic tumours|2|thigh|recurrence|1|yes|2|no|yes",
        "P02|male||58|2016-01-10||leiomyosarcoma|smooth muscle tumours|3|retroperitoneum|"
        "oligometastasis|2|yes|1|yes|no",
        "P03|female|1975-09-30|44|2017-05-20|2019-02-01|undifferentiated pleomorphic sarcoma|"
        "tumours of uncertain differentiation|1||oligometastasis|1|no|0||",
    ],
    "screened_candidates": [
        "SC1|2018-12-01|yes||P01",
        "SC2|2019-02-01|yes||P02",
        "SC3|2019-03-01|no|unclear imaging data|",
        "SC4|2020-01-10|yes||P03",
        "SC5|2020-01-15|no|multiple metastases (more than 3 lesions)|",
    ],
    "lesions": [
        "L01|P01|limbs|left thigh|4.5",
        "L02|P02|lung|right lower lobe|2.1",
        "L03|P02|lung|left upper lobe|1.3",
        "L04|P03|vertebral body bone|T10|3",
    ],
    "sbrt_courses": [
        "C01|L01|2019-01-07|2019-01-11|40|5|80|3|CyberKnife|fiducial",
        "C02|L02|2019-03-04|2019-03-06|54|3|75|5|CyberKnife|lung",
        "C03|L03|2019-03-04|2019-03-08|50|5|78.5|5|CyberKnife|fiducial",
        "C04|L04|2020-02-03|2020-02-05|27|3|80|2|CyberKnife|spine",
    ],
    "dosimetry": [
        "C01|35.2|38.1|34.6|50|98.3|1.08|1.12|1.25|tps",
        "C02|6.4|7.7|6.3|72|98.4|1.2|1.22|1.33|tps",
        "C03|2.1||||||||computed",
        "C04|14|15.5|13.7|33.75|97.9|1.11|1.13|1.25|tps",
    ],
    "assessments": [
        "A01|L01|2018-12-20|MRI|45|no",
        "A02|L01|2019-04-10|MRI|38|no",
        "A03|L01|2019-10-02|MRI|60|yes",
        "A04|L02|2019-06-01|CT|15|no",
        "A05|L03|2019-06-01|PET-CT|0|no",
        "A06|L04|2020-05-10|MRI|30|",
    ],
    "patient_events": [
        "E01|P01|progression|2019-10-02|local|L01",
        "E02|P01|last_contact|2021-02-01||",
        "E03|P01|death|2021-03-15||",
        "E04|P02|progression|2020-01-15|distant|",
        "E05|P02|last_contact|2023-05-01||",
        "E06|P03|last_contact|2023-06-01||",
    ],
    "toxicities": [
        "T01|P01|C01|2019-02-01|5.0|Dermatitis radiation|1|probable",
        "T02|P02|C02|2019-05-10|5.0|Pneumonitis|2|possible",
        "T03|P03||2020-03-01|4.03|Fatigue|1|",
    ],
    "systemic_therapies": [
        "S01|P01|chemotherapy|doxorubicin|2019-11-01|2020-03-01",
        "S02|P02|targeted therapy|pazopanib|2020-02-01|",
    ],
}


def mini_registry() -> Tables:
    """A fresh copy of the valid mini registry: table -> rows (column -> cell text)."""
    tables: Tables = {}
    for spec in TABLES:
        rows = []
        for line in _DATA.get(spec.name, []):
            cells = line.split("|")
            assert len(cells) <= len(spec.columns), (spec.name, line)
            cells += [""] * (len(spec.columns) - len(cells))  # opt columns added later
            rows.append(dict(zip(spec.column_names, cells, strict=True)))
        tables[spec.name] = rows
    return tables


def data_row(tables: Tables, table: str, key: str) -> tuple[int, dict[str, str]]:
    """The spreadsheet row number (header = 1) and the cells of the row whose id is ``key``."""
    primary = TABLE_BY_NAME[table].primary_key
    for index, row in enumerate(tables[table]):
        if row[primary] == key:
            return index + 2, row
    raise KeyError(key)


def write_csv_folder(
    tables: Tables, folder: Path, *, delimiter: str = ",", bom: bool = False
) -> Path:
    """One ``<table>.csv`` per table; columns in the order of each row dict's keys."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, rows in tables.items():
        columns = list(rows[0]) if rows else list(TABLE_BY_NAME[name].column_names)
        with open(
            folder / f"{name}.csv", "w", newline="", encoding="utf-8-sig" if bom else "utf-8"
        ) as handle:
            writer = csv.writer(handle, delimiter=delimiter, lineterminator="\n")
            writer.writerow(columns)
            writer.writerows([row.get(c, "") for c in columns] for row in rows)
    return folder


def write_workbook(
    tables: Tables, path: Path, *, date_system: int = 1900, dates_as_serials: bool = False
) -> Path:
    """One sheet per table. Dates become real date cells, or plain serial numbers of the
    workbook's date system; numbers become numbers."""
    from openpyxl import Workbook
    from openpyxl.utils.datetime import CALENDAR_MAC_1904, to_excel

    workbook = Workbook()
    if date_system == 1904:
        workbook.epoch = CALENDAR_MAC_1904
    workbook.remove(workbook.active)
    for name, rows in tables.items():
        sheet = workbook.create_sheet(name)
        spec = TABLE_BY_NAME.get(name)
        columns = list(rows[0]) if rows else list(spec.column_names if spec else [])
        sheet.append(columns)
        for row in rows:
            cells: list[object] = []
            for column in columns:
                text = row.get(column, "")
                kind = spec.column(column).kind if spec and column in spec.column_names else ""
                cells.append(_excel_value(text, kind, dates_as_serials, workbook.epoch, to_excel))
            sheet.append(cells)
    workbook.save(path)
    return path


def _excel_value(text: str, kind: str, serials: bool, epoch: object, to_excel: object) -> object:
    if text == "":
        return None
    if kind == "date":
        try:
            day = dt.date.fromisoformat(text)
        except ValueError:
            return text
        return int(to_excel(day, epoch)) if serials else day  # type: ignore[operator]
    if kind in ("number", "integer"):
        try:
            number = float(text)
        except ValueError:
            return text
        return int(number) if number.is_integer() else number
    return text


def file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
