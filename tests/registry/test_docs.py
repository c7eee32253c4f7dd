"""The format documentation (docs/registry-format.md, README) is generated from the spec."""

from __future__ import annotations

from pathlib import Path

from rtoutcomes.registry.docs import contract_document, readme_section, replace_readme_section
from rtoutcomes.registry.spec import TABLES

ROOT = Path(__file__).resolve().parents[2]
REGENERATE = "regenerate with: PYTHONPATH=src python -m rtoutcomes.registry.docs --write"


def test_contract_document_matches_spec() -> None:
    text = (ROOT / "docs" / "registry-format.md").read_text(encoding="utf-8")
    assert text == contract_document(), REGENERATE


def test_readme_section_matches_spec() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert readme_section() in readme, REGENERATE
    assert replace_readme_section(readme) == readme


def test_every_column_is_documented() -> None:
    section = readme_section()
    for spec in TABLES:
        assert f"### {spec.name} (" in section
        for col in spec.columns:
            assert f"\n| {col.name} | {col.kind} | " in section


def test_replace_keeps_other_sections() -> None:
    readme = "# t\n\n## A\n\na\n\n## Registry data format\n\nold\n\n## B\n\nb\n"
    replaced = replace_readme_section(readme)
    assert replaced.startswith("# t\n\n## A\n\na\n\n## Registry data format\n\n")
    assert "\n\nold\n\n" not in replaced
    assert replaced.endswith("\n\n## B\n\nb\n")
    assert replace_readme_section("# t\n").endswith(readme_section())
