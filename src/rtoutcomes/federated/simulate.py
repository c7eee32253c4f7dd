"""``rtoutcomes federated simulate``: the whole protocol on one machine, one vantage6 mock
organisation per centre, and the report written from the central results alone.

Each centre's table is loaded into vantage6's own ``MockAlgorithmClient`` (one organisation
per centre); the centres' disclosure policies are given to them as their environment
(``RTOUTCOMES_DISCLOSURE_<organisation id>``), never to the central function. The central part
sees only what the partial functions return, passed through JSON as on a real network.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rtoutcomes.errors import RtOutcomesError
from rtoutcomes.federated.disclosure import ENV, DisclosurePolicy
from rtoutcomes.results.model import Federated, Results

Progress = Callable[[str], None]


class FederatedSetupError(RtOutcomesError):
    """The simulation cannot start (vantage6 missing, bad site list)."""

    exit_code = 2


def _quiet(_: str) -> None:
    """No progress display."""


@contextmanager
def _policies(policies: Mapping[int, DisclosurePolicy]) -> Iterator[None]:
    """Each mock organisation's own disclosure setting, as a node's environment gives it."""
    names = {f"{ENV}_{org}": json.dumps(p.as_dict()) for org, p in policies.items()}
    before = {name: os.environ.get(name) for name in names}
    os.environ.update(names)
    try:
        yield
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def simulate(
    study_path: Path,
    sites: list[tuple[str, Path]],
    out_dir: Path,
    policies: Mapping[str, DisclosurePolicy] | None = None,
    progress: Progress = _quiet,
) -> Results:
    """Run the study federated over ``sites`` (centre name, analysis table) and write the
    report to ``out_dir``; ``policies``: each centre's disclosure policy (default policy
    otherwise)."""
    try:
        from vantage6.algorithm.tools.mock_client import MockAlgorithmClient
    except ImportError:
        raise FederatedSetupError(
            "federated analysis needs vantage6's algorithm tools: pip install "
            "'rtoutcomes[federated]'"
        ) from None
    import yaml

    from rtoutcomes.federated import algorithm
    from rtoutcomes.federated.site import study_of
    from rtoutcomes.study.schema import load_study
    from rtoutcomes.study.table import read_table

    names = [name for name, _ in sites]
    if len(sites) < 2:
        raise FederatedSetupError(
            "federated simulate: give at least two centres (--site NAME=TABLE)"
        )
    if len(set(names)) != len(names):
        raise FederatedSetupError("federated simulate: centre names must be distinct")
    study = load_study(study_path)  # checks the file and gives its SHA-256
    raw = yaml.safe_load(study_path.read_text(encoding="utf-8"))
    study_of(raw)
    tables = []
    for name, path in sites:
        progress(f"reading centre {name}")
        tables.append(read_table(path))
    client = MockAlgorithmClient(
        datasets=[[{"database": t}] for t in tables], module="rtoutcomes.federated.algorithm"
    )
    centres = {str(org): name for org, name in enumerate(names)}
    chosen = {org: (policies or {}).get(name, DisclosurePolicy()) for org, name in enumerate(names)}
    progress(f"running the federated protocol over {len(sites)} centres")
    # vantage6's mock client prints a line per task on stdout: keep the command's output clean
    with _policies(chosen), contextlib.redirect_stdout(io.StringIO()):
        answer = algorithm.central(study=raw, centres=centres, mock_client=client)
    answer = json.loads(json.dumps(answer))  # as it would arrive over the network
    return write_federated_report(study, answer, out_dir, progress)


def write_federated_report(
    study: Any, answer: dict[str, Any], out_dir: Path, progress: Progress = _quiet
) -> Results:
    """results.json and the report from the central function's answer."""
    from rtoutcomes.report.build import build_report, write_report
    from rtoutcomes.report.provenance import provenance
    from rtoutcomes.results.model import SCHEMA_VERSION
    from rtoutcomes.study.run import collect_warnings, study_summary

    endpoints = answer["endpoints"]
    centres = answer["centres"]
    # the researcher holds no data: the provenance hashes what the centres released
    digest = hashlib.sha256(json.dumps(endpoints, sort_keys=True).encode()).hexdigest()
    label = f"federated: {len(centres)} centres ({', '.join(c['site'] for c in centres)})"
    federated: Federated = {
        "centres": [{"name": c["site"], "disclosure": c["policy"]} for c in centres],
        "protocol": "rtoutcomes federated (vantage6): per-time counts, counts per level, Cox "
        "models stratified by centre from per-centre sums",
    }
    results: Results = {
        "schema_version": SCHEMA_VERSION,
        "study": study_summary(study),
        "endpoints": endpoints,
        "cohort": {},
        "provenance": provenance(
            study.path.name if study.path else "study", study.sha256, label, digest
        ),
        "warnings": [*collect_warnings(endpoints), *answer["notes"]],
        "federated": federated,
    }
    progress("drawing figures")
    report = build_report(results, None, progress)
    write_report(report, out_dir, progress)
    return report.results
