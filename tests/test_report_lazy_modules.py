"""Modules the plotting libraries import but the report's figures never use run only if used
(``report.lazy_modules``): the report process does not run fontTools' subsetter, its figures
are the same bytes, and a figure that does use it (a Type 42 PDF) gets the module as imported
normally.

Each case runs in a fresh interpreter (which modules are imported is per process).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

# a figure with text drawn in every format; prints each file's digest and how fontTools'
# subsetter stands ("lazy": registered, not run; "run"; "absent")
DRAW = """
import hashlib, json, sys
{setup}
import matplotlib
from rtoutcomes.report.figures import new_figure, rc_context, render
import io
with rc_context():
    fig = new_figure(3.0, 2.0)
    fig.text(0.1, 0.5, "Overall survival: 12 24 36 months, Grade 1 (n = 37)")
    files = render(fig, ("png", "svg", "pdf")).files  # the report's: Type 3 fonts
    if {type42}:  # a PDF with its font embedded as Type 42: subset by fontTools
        with matplotlib.rc_context({{"pdf.fonttype": 42}}):
            pdf = io.BytesIO()
            fig.savefig(pdf, format="pdf", metadata={{"CreationDate": None}})
        files["pdf42"] = pdf.getvalue()
module = sys.modules.get("fontTools.subset")
state = "absent" if module is None else (
    "lazy" if type(module).__name__ == "_LazyModule" else "run")
print(json.dumps([state, {{k: hashlib.sha256(v).hexdigest() for k, v in files.items()}}]))
"""
DEFER = "from rtoutcomes.report.lazy_modules import defer_unused; defer_unused()"


def _drawn(python_output: Callable[..., str], deferred: bool, type42: bool) -> list[Any]:
    code = DRAW.format(setup=DEFER if deferred else "", type42=type42)
    parsed: list[Any] = json.loads(python_output(code).strip().splitlines()[-1])
    return parsed


def test_the_report_figures_do_not_run_the_font_subsetter_and_are_the_same_bytes(
    python_output: Callable[..., str],
) -> None:
    """Deferred, the subsetter is never run for the report's Type 3 PDFs, and the PNG, SVG and
    PDF are the bytes of an interpreter that imported it; without ``defer_unused`` the PDF
    backend runs it at its import (the control: the check sees a run module)."""
    deferred_state, deferred_files = _drawn(python_output, deferred=True, type42=False)
    eager_state, eager_files = _drawn(python_output, deferred=False, type42=False)
    assert deferred_state == "lazy"
    assert eager_state == "run"
    assert deferred_files == eager_files


def test_a_figure_that_uses_the_subsetter_gets_it_run_and_the_same_bytes(
    python_output: Callable[..., str],
) -> None:
    """A Type 42 PDF subsets its font with fontTools: deferred, the module runs at that use
    and the PDF is the bytes of an interpreter that imported it at once."""
    deferred_state, deferred_files = _drawn(python_output, deferred=True, type42=True)
    eager_state, eager_files = _drawn(python_output, deferred=False, type42=True)
    assert deferred_state == eager_state == "run"
    assert deferred_files == eager_files
    assert deferred_files["pdf42"] != deferred_files["pdf"]  # the Type 42 file is another


@pytest.mark.parametrize(
    ("name", "setup"),
    [("json", ""), ("rtoutcomes_no_such_module", ""), ("rtoutcomes_no_such.module", "")],
)
def test_defer_leaves_imported_and_missing_modules_alone(
    python_output: Callable[..., str], name: str, setup: str
) -> None:
    """An imported module stays as it is, a missing one stays missing (``defer`` says False)."""
    code = (
        "import json, sys\n"
        "from rtoutcomes.report.lazy_modules import defer\n"
        f"done = defer({name!r})\n"
        f"module = sys.modules.get({name!r})\n"
        "print(json.dumps([done, None if module is None else type(module).__name__]))\n"
    )
    done, kind = json.loads(python_output(code).strip().splitlines()[-1])
    assert done is False
    assert kind == ("module" if name == "json" else None)


def test_the_report_process_defers_the_subsetter(python_output: Callable[..., str]) -> None:
    """The report process (``study.forked``) defers it before importing the backends: a job
    run there sees the PDF backend imported and the subsetter registered, not run."""
    code = (
        "import json, os, sys, tempfile\n"
        "from rtoutcomes.study.forked import ReportProcess\n"
        "def job(path):\n"
        "    module = sys.modules.get('fontTools.subset')\n"
        "    state = None if module is None else type(module).__name__\n"
        "    pdf = 'matplotlib.backends.backend_pdf' in sys.modules\n"
        "    with open(path, 'w') as out:\n"
        "        json.dump([os.getpid(), state, pdf], out)\n"
        "path = os.path.join(tempfile.mkdtemp(), 'seen.json')\n"
        "with ReportProcess() as report:\n"
        "    child = report.pid\n"
        "    report.submit(job, path)\n"
        "    report.wait()\n"
        "with open(path) as seen:\n"
        "    print(json.dumps([child, json.load(seen)]))\n"
    )
    child, (pid, state, pdf) = json.loads(python_output(code).strip().splitlines()[-1])
    assert child is not None and pid == child  # the job ran in the report process
    assert pdf and state == "_LazyModule"
