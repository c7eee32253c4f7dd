"""The results model: the typed shape of results.json (``model``) and its JSON Schema
(``schema``). It depends on nothing else in rtoutcomes: ``study`` produces it, ``report`` and
every other user of results.json read it."""

from rtoutcomes.results.model import (
    SCHEMA_VERSION,
    Cohort,
    CompetingRisks,
    CoxModel,
    EndpointResults,
    GroupResults,
    KMSummary,
    Provenance,
    Results,
    ResultsFile,
    StudySummary,
)

__all__ = [
    "SCHEMA_VERSION",
    "Cohort",
    "CompetingRisks",
    "CoxModel",
    "EndpointResults",
    "GroupResults",
    "KMSummary",
    "Provenance",
    "Results",
    "ResultsFile",
    "StudySummary",
]
