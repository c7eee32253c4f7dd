"""docs/study-file.md documents every key the study-file parser accepts (study.schema.KEYS):
the top-level keys and km/cox/radiobiology in the key table, the others in their sections."""

from __future__ import annotations

import re
from pathlib import Path

from rtoutcomes.study.schema import KEYS

DOC = Path(__file__).resolve().parents[1] / "docs" / "study-file.md"
# where each mapping's keys are documented: a row of the key table or a section
IN_TABLE_ROW = {"km", "cox", "radiobiology", "dosimetry"}
SECTIONS = {
    "endpoints.*": "Endpoints",
    "covariates.*": "Covariates",
    "analyses": "Analyses",
    "tables": "Tables",
    "tables.dose_metrics[]": "Tables",
    "figures": "Figures",
    "endpoint_rules": "Endpoint rules",
    "manuscript": "Manuscript",
}


def _section(text: str, heading: str) -> str:
    match = re.search(rf"^## {re.escape(heading)}\n(.*?)(?=^## |\Z)", text, re.M | re.S)
    return match.group(1) if match else ""


def undocumented(text: str, keys: dict[str, tuple[str, ...]]) -> list[str]:
    """``parent.key`` of every key that its place in the document does not name."""
    missing = []
    rows = {m.group(1): m.group(0) for m in re.finditer(r"^\| `(\w+)` \|.*$", text, re.M)}
    for parent, names in keys.items():
        for key in names:
            if parent == "":
                found = key in rows
            elif parent in IN_TABLE_ROW:
                found = re.search(rf"(?<![\w.]){key}(?!\w)", rows.get(parent, "")) is not None
            else:
                place = _section(text, SECTIONS.get(parent, parent))
                # as code: `key`, `{key: ...`, `..., key}`, `key: VALUE`
                found = re.search(rf"[`{{,\s]{key}[`:,}}]", place) is not None
            if not found:
                missing.append(f"{parent}.{key}" if parent else key)
    return missing


def test_every_study_file_key_is_documented() -> None:
    assert undocumented(DOC.read_text(encoding="utf-8"), KEYS) == []


def test_the_check_finds_an_undocumented_key() -> None:
    # negative control: a key the parser would accept that the document never names
    keys = {**KEYS, "figures": (*KEYS["figures"], "dpi_of_doom"), "km": ("conf_typo",)}
    assert undocumented(DOC.read_text(encoding="utf-8"), keys) == [
        "km.conf_typo",
        "figures.dpi_of_doom",
    ]
    text = DOC.read_text(encoding="utf-8").replace("## Manuscript", "## Manuscripts")
    assert "manuscript.page_size" in undocumented(text, KEYS)
