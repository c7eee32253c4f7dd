"""The registry forms of the web app: a form's state (values as typed, errors) and its fields,
read from the registry format's column specifications (``registry.spec``)."""

from __future__ import annotations

from dataclasses import dataclass, field

from rtoutcomes.registry.spec import ColumnSpec, TableSpec


@dataclass
class FormState:
    """A form's values (as typed), errors by column, and errors about no single column."""

    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, list[str]] = field(default_factory=dict)
    general: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Field:
    """One input of a form, from the column's specification."""

    column: ColumnSpec
    options: tuple[str, ...] = ()  # a select's choices ('' = empty) or () for a text input
    fixed: bool = False  # shown, not editable (the patient of an added record)

    @property
    def hint(self) -> str:
        c = self.column
        parts = [c.kind + (f", {c.unit}" if c.unit else "")]
        if c.kind == "date":
            parts.append("YYYY-MM-DD")
        if c.range is not None:
            parts.append(c.range.describe(c.unit))
        parts.append(
            {"req": "required", "opt": "optional", "cond": c.condition or "see rules"}[
                c.requirement
            ]
        )
        return "; ".join(p for p in parts if p)


def form_field(
    column: ColumnSpec, choices: tuple[str, ...] | None = None, fixed: bool = False
) -> Field:
    if choices is not None:
        return Field(column, ("", *choices), fixed)
    if column.choices:
        return Field(column, ("", *column.choices), fixed)
    if column.kind == "yes/no":
        return Field(column, ("", "yes", "no"), fixed)
    return Field(column, (), fixed)


def record_fields(spec: TableSpec) -> list[Field]:
    return [form_field(c) for c in spec.columns if c.name != spec.primary_key]
