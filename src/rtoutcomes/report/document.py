"""The report as data: title, tables, figures, methods and provenance, before any rendering."""

from __future__ import annotations

from dataclasses import dataclass, field

from rtoutcomes.report.figures import Rendered
from rtoutcomes.report.table import Table
from rtoutcomes.results.model import Results


@dataclass(frozen=True)
class Figure:
    """A rendered figure, its file stem under ``figures/``, its caption and its section:
    ``main`` (the manuscript's numbered figures) or ``supplement`` (every single panel)."""

    key: str
    caption: str
    rendered: Rendered
    section: str = "main"


@dataclass
class Report:
    """Everything the renderers need; ``results`` is the results.json content."""

    title: str
    results: Results
    tables: list[Table] = field(default_factory=list)
    figures: list[Figure] = field(default_factory=list)
    methods: str = ""
    warnings: list[str] = field(default_factory=list)
