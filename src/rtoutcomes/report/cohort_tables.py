"""Descriptive tables from the cohort facts: Table 1 (patients), Table 2 (lesions), toxicity.

n (%) percentages of mutually exclusive categories add up to 100 (largest remainder); median
(range) for continuous characteristics.
"""

from __future__ import annotations

from rtoutcomes.report import fmt
from rtoutcomes.report.table import Table
from rtoutcomes.results.model import (
    Characteristic,
    Cohort,
    Range,
    Table1Facts,
    Table2Facts,
    ToxicityFacts,
)


def _categories(
    table: Table, label: str, counts: dict[str, int], n: int, exclusive: bool = True
) -> None:
    if not counts:
        return
    table.section(label)
    values = list(counts.values())
    if exclusive and sum(values) == n:
        cells = fmt.n_percent(values)
    else:  # overlapping categories (a patient may have several): plain percentages
        cells = [f"{v} ({100 * v / n:.1f}%)" for v in values]
    for name, cell in zip(counts, cells, strict=True):
        table.add(f"  {name[:1].upper()}{name[1:]}", cell)  # "Male", "Abdomen/pelvis"


def _median(
    table: Table,
    label: str,
    summary: Range | None,
    digits: int = 1,
    unit: str = "",
    *,
    total: int | None = None,
) -> None:
    """A median (range) row; when some of the ``total`` rows have no value, the label says on
    how many it is based (gtsummary's n)."""
    if summary and summary.get("median") is not None:
        n = summary.get("n")
        if total is not None and n is not None and n < total:
            label = f"{label} (n = {n} of {total})"
        table.add(
            label, fmt.median_range(summary["median"], summary["min"], summary["max"], digits, unit)
        )


def table1(facts: Table1Facts) -> Table:
    """Table 1. Patient characteristics."""
    n = facts["n"]
    table = Table(
        "table1_patients",
        "Table 1. Patient characteristics",
        ["Characteristic", f"Patients (n = {n}), n (%)"],
    )
    _median(table, "Age, years: median (range)", facts.get("age_years"), 0, total=n)
    _categories(table, "Sex", facts["sex"], n)
    _categories(table, "Histology (WHO family)", facts["histology_family"], n)
    _categories(table, "Disease setting", facts["disease_setting"], n)
    _categories(table, "Histological grade (primary, at diagnosis)", facts["histological_grade"], n)
    _categories(table, "Lesions at first SBRT", facts["lesions_at_first_sbrt"], n)
    if "systemic_treatment" in facts:
        _categories(table, "Systemic treatment", facts["systemic_treatment"], n)
        chemo = facts.get("chemotherapy_timing", {})
        if sum(chemo.values()):
            _categories(
                table,
                f"Chemotherapy timing (of {sum(chemo.values())} with chemotherapy)",
                chemo,
                sum(chemo.values()),
            )
    for count, label in (
        (facts.get("first_treatment_surgery"), "Surgery as first treatment"),
        (facts.get("more_than_2_operations"), "More than 2 operations"),
        (facts.get("adjuvant_chemotherapy_after_surgery"), "Adjuvant chemotherapy"),
        (facts.get("adjuvant_radiotherapy_after_surgery"), "Adjuvant radiotherapy"),
    ):
        if count is not None:
            table.add(label, f"{count} ({100 * count / n:.1f}%)")
    _median(
        table,
        "Diagnosis to recurrence/oligometastasis, months: median (range)",
        facts.get("months_diagnosis_to_recurrence_or_oligometastasis"),
        0,
        total=n,
    )
    table.notes.append(
        "Percentages of mutually exclusive categories are rounded to add up to "
        "100 (largest remainder)."
    )
    return table


def table2(facts: Table2Facts) -> Table:
    """Table 2. Lesion and treatment characteristics, with the schedules and indices."""
    n = facts["n"]
    table = Table(
        "table2_lesions",
        "Table 2. Lesion and treatment characteristics",
        ["Characteristic", f"Lesions (n = {n}), n (%)"],
    )
    _categories(table, "Site", facts["site"], n)
    _median(table, "Lesion size, cm: median (range)", facts["size_cm"], total=n)
    _categories(table, "Lesion size", facts["size_groups"], n)
    _median(table, "BED10, Gy: median (range)", facts["bed10_gy"], total=n)
    _categories(table, "BED10", facts["bed10_groups"], n)
    dose, fractions = facts["prescription"]["dose_gy"], facts["prescription"]["fractions"]
    if dose["median"] is not None:
        gy = fmt.median_range(dose["median"], dose["min"], dose["max"], 0, "Gy")
        fx = fmt.median_range(fractions["median"], fractions["min"], fractions["max"], 0, "Fx")
        table.add("Prescription: median (range)", f"{gy} / {fx}")
    _categories(table, "Schedule", {k: v for k, v in facts["schedules"].items() if v}, n)
    _median(table, "Isodose line, %: median (range)", facts.get("isodose_pct"), 0, total=n)
    for summary, label in (
        (facts.get("ci"), "CI (RTOG)"),
        (facts.get("nci"), "nCI"),
        (facts.get("hi"), "HI (RTOG)"),
        (facts.get("ptv_coverage_pct"), "PTV coverage, %"),
    ):
        _median(table, f"{label}: median (range)", summary, 2, total=n)
    for row in facts.get("dose_metrics", []):
        _median(table, f"{row['label']}: median (range)", row["summary"], 2, total=n)
    table.notes.append(
        "BED10: biologically effective dose with alpha/beta = 10 Gy "
        "(linear-quadratic model), of each lesion's first SBRT course."
    )
    return table


def toxicity_table(facts: ToxicityFacts) -> Table:
    """Toxicity by phase, CTCAE term and worst grade per patient: patients (%)."""
    n = facts["patients"]
    grades = sorted({row["grade"] for row in facts["by_grade"]}) or [1, 2, 3]
    table = Table(
        "toxicity",
        "Toxicity (CTCAE): worst grade per patient",
        ["Phase", "Term", *[f"Grade {g}" for g in grades], "Any grade"],
    )
    cells: dict[tuple[str, str], dict[int, int]] = {}
    for row in facts["by_grade"]:
        cells.setdefault((row["phase"], row["term"]), {})[row["grade"]] = row["patients"]
    totals = {(row["phase"], row["term"]): row["patients"] for row in facts["overview"]}
    for phase in ("acute", "late"):
        terms = sorted((t for (p, t) in totals if p == phase), key=lambda t: (t == "any", t))
        for i, term in enumerate(terms):
            by_grade = cells.get((phase, term), {})
            shares = [
                f"{by_grade[g]} ({100 * by_grade[g] / n:.1f}%)" if g in by_grade else "0"
                for g in grades
            ]
            total = totals[(phase, term)]
            table.add(
                phase if i == 0 else "",
                "Any term" if term == "any" else term,
                *shares,
                f"{total} ({100 * total / n:.1f}%)",
            )
    table.notes.append(
        f"Patients (% of {n}) by their worst grade of each term; acute: within "
        "90 days of SBRT start, late: after."
    )
    return table


def cohort_tables(cohort: Cohort) -> list[Table]:
    """Table 1, Table 2, the toxicity table and the best-response table (registry studies)."""
    from rtoutcomes.report.response_report import best_response_table

    tables = [
        table1(cohort["table1"]),
        table2(cohort["table2"]),
        toxicity_table(cohort["toxicity"]),
    ]
    if "response" in cohort:
        tables.append(best_response_table(cohort["response"]))
    return tables


def characteristics_table(facts: dict[str, Characteristic], n: int) -> Table:
    """Table 1 of a study on an analysis table: n (%) per level (missing as "Unknown", of all
    rows, adding to 100), median (IQR) and range with the number missing (gtsummary)."""
    table = Table(
        "table1_characteristics",
        "Table 1. Characteristics",
        ["Characteristic", f"All rows (n = {n})"],
    )
    for entry in facts.values():
        label = entry["label"] + (f", {entry['unit']}" if entry["unit"] else "")
        if entry["levels"] is not None:
            _categories(table, label, entry["levels"], n)
            continue
        s = entry["spread"]
        if s is None or s["median"] is None:
            table.add(label, "no values")
            continue
        table.section(label)
        table.add("  Median (IQR)", fmt.median_range(s["median"], s["q1"], s["q3"]))
        table.add("  Range", f"{fmt.estimate(s['min'], 1)}{fmt.DASH}{fmt.estimate(s['max'], 1)}")
        if entry["missing"]:
            table.add("  Unknown", f"{entry['missing']} ({100 * entry['missing'] / n:.1f}%)")
    table.notes.append(
        "n (%) of all rows; missing values counted as Unknown. Percentages of a "
        "characteristic's categories are rounded to add up to 100 (largest "
        "remainder). IQR: interquartile range."
    )
    return table
