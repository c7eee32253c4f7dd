"""The report's figures that need no analysis, drawn before the analyses' results exist.

A registry study's swimmer and waterfall plots are drawn from the study's settings and the
cohort's swimmer lanes and response, which are known once the registry is derived. The report
process (``study.forked.ReportProcess.start_early``) forks a process that draws them while the
analyses run, on the core that would otherwise wait for them; the report takes them in the
place of its ``response_figures`` task (``report.build.start_figures``). This module imports
nothing heavy: the command's process names the function to send it, and draws nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

if TYPE_CHECKING:
    from rtoutcomes.report.document import Figure
    from rtoutcomes.results.model import Cohort, Results, StudySummary

EARLY_COHORT = ("swimmer", "response")
"""What ``early_figures`` reads of a cohort's facts."""


def early_cohort(cohort: Cohort) -> Cohort:
    """The part of ``cohort`` that ``early_figures`` reads (what is sent to draw them)."""
    return cast("Cohort", {key: cohort[key] for key in EARLY_COHORT if key in cohort})  # type: ignore[literal-required]


def early_figures(study: StudySummary, cohort: Cohort) -> list[Figure]:
    """The figures of the report's ``response_figures`` task (swimmer and waterfall plots),
    from ``study`` and ``early_cohort(cohort)`` made safe as the report makes its results
    (``xml_safe_tree``): the same figures, drawn before the analyses."""
    from rtoutcomes.collector import collector_paused
    from rtoutcomes.io.outputs import xml_safe_tree
    from rtoutcomes.report.response_report import response_figures

    early = {"study": study, "cohort": early_cohort(cohort)}
    with collector_paused():  # as a figure worker draws (``report.parallel_figures``)
        return response_figures(cast("Results", xml_safe_tree(early)))
