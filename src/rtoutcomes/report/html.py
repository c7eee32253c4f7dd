"""report.html: one self-contained file (figures as data URIs, inline CSS, no scripts)."""

from __future__ import annotations

import base64
from html import escape
from pathlib import Path

from rtoutcomes.report.document import Report
from rtoutcomes.report.table import Table

CSS = """
body { font-family: 'Helvetica Neue', Arial, sans-serif; max-width: 60rem; margin: 2rem auto;
       padding: 0 1rem; color: #111; line-height: 1.45; }
h1 { font-size: 1.6rem; } h2 { font-size: 1.2rem; margin-top: 2rem; border-bottom: 1px solid #999; }
table { border-collapse: collapse; margin: 0.6rem 0 0.3rem; font-size: 0.85rem; }
caption { text-align: left; font-weight: bold; padding-bottom: 0.3rem; }
th, td { padding: 0.2rem 0.6rem; text-align: left; vertical-align: top; }
thead th { border-top: 2px solid #000; border-bottom: 1px solid #000; }
tbody tr:last-child td { border-bottom: 2px solid #000; }
tr.section td { font-weight: bold; padding-top: 0.5rem; }
p.note { font-size: 0.8rem; margin: 0.1rem 0; color: #333; }
p.warning { background: #fff4d6; border-left: 4px solid #c80; padding: 0.3rem 0.6rem; }
figure { margin: 1rem 0; } figure img { width: 36rem; max-width: 100%; height: auto; }
figure.main img { width: auto; max-width: 100%; }
figcaption { font-size: 0.85rem; }
dl.provenance { display: grid; grid-template-columns: max-content auto; gap: 0.1rem 1rem;
                font-size: 0.8rem; } dl.provenance dd { margin: 0; font-family: monospace; }
"""


def table_html(table: Table) -> str:
    head = "".join(f"<th>{escape(c)}</th>" for c in table.columns)
    rows = []
    for row in table.rows:
        if row.heading:
            rows.append(
                f'<tr class="section"><td colspan="{len(table.columns)}">'
                f"{escape(row.cells[0])}</td></tr>"
            )
        else:
            rows.append("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row.cells) + "</tr>")
    notes = "".join(f'<p class="note">{escape(n)}</p>' for n in table.notes)
    return (
        f'<section id="{escape(table.key)}"><table><caption>{escape(table.title)}</caption>'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>{notes}"
        "</section>"
    )


def render_html(report: Report) -> str:
    provenance = report.results["provenance"]
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(report.title)}</title><style>{CSS}</style></head><body>",
        f"<h1>{escape(report.title)}</h1>",
    ]
    if report.warnings:
        parts.append("<h2>Warnings</h2>")
        parts += [f'<p class="warning">{escape(w)}</p>' for w in report.warnings]
    parts += ["<h2>Statistical methods</h2>", f"<p>{escape(report.methods)}</p>"]
    parts.append("<h2>Tables</h2>")
    parts += [table_html(t) for t in report.tables if not t.supplement]
    supplement = [t for t in report.tables if t.supplement]
    for section, heading, prefix in (
        ("main", "Figures", ""),
        ("supplement", "Supplementary figures", "S"),
    ):
        if section == "supplement" and supplement:  # after the main figures
            parts.append("<h2>Supplementary tables</h2>")
            parts += [table_html(t) for t in supplement]
        chosen = [f for f in report.figures if f.section == section]
        if chosen:
            parts.append(f"<h2>{heading}</h2>")
        for i, figure in enumerate(chosen, start=1):
            data = base64.b64encode(figure.rendered.svg).decode("ascii")
            parts.append(
                f'<figure id="fig-{escape(figure.key)}" class="{section}">'
                f'<img alt="{escape(figure.caption)}" src="data:image/svg+xml;base64,{data}">'
                f"<figcaption>Figure {prefix}{i}. {escape(figure.caption)}</figcaption></figure>"
            )
    parts.append('<h2>Provenance</h2><dl class="provenance">')
    for name, version in provenance["software"].items():
        parts.append(f"<dt>{escape(name)}</dt><dd>{escape(version)}</dd>")
    for what in ("study_file", "data"):
        item = provenance[what]
        parts.append(
            f"<dt>{escape(what.replace('_', ' '))}</dt>"
            f"<dd>{escape(item['name'])} sha256:{escape(item['sha256'])}</dd>"
        )
    state = provenance.get("registry_state")
    if state is not None:
        label = f"label {state['label']}, " if state["label"] else ""
        parts.append(
            f"<dt>registry state</dt><dd>{escape(label)}batch {state['batch']}, audit entry "
            f"{state['audit_seq']}, chain hash {escape(state['chain_hash'])}</dd>"
        )
    parts.append("</dl></body></html>\n")
    return "\n".join(parts)


def write_html(report: Report, path: Path) -> None:
    path.write_text(render_html(report), encoding="utf-8", newline="\n")
