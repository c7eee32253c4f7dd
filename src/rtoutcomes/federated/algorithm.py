"""The vantage6 algorithm: the functions a vantage6 node and the researcher's task call.

Install with ``pip install 'rtoutcomes[federated]'`` (vantage6-algorithm-tools 4.x: the line
that installs on Python 3.11; 5.x needs Python 3.13). The node image's entry point is
``vantage6.algorithm.tools.wrap.wrap_algorithm`` with ``PKG_NAME=rtoutcomes.federated.algorithm``
(see docs/federated.md and deploy/vantage6/Dockerfile).

* ``central(study, centres)``: the researcher's task; runs the protocol of
  ``federated.central`` with vantage6 subtasks and returns the results (the ``endpoints`` and
  the centres' disclosure settings) as JSON.
* ``describe`` and ``cox_step``: the partial functions each node runs on its own analysis
  table, with its own disclosure policy (``federated.disclosure``). A refusal comes back as
  ``{"refused": reason}``, never as data.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from vantage6.algorithm.tools.decorators import algorithm_client, data

from rtoutcomes.errors import RtOutcomesError
from rtoutcomes.federated import site
from rtoutcomes.federated.disclosure import DisclosureRefused, centre_policy


def _centre(client: Any, centres: dict[str, str]) -> str:
    org = str(client.organization_id)
    return centres.get(org, f"organisation {org}")


def _refusable(name: str, work: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """The centre's answer, labelled with its name (answers may arrive in any order)."""
    try:
        return {**work(), "centre": name}
    except DisclosureRefused as refusal:
        return {"refused": str(refusal), "centre": name}
    except RtOutcomesError as error:  # a centre's table that does not fit the study file
        return {"refused": f"centre {name}: {error}", "centre": name}


@data(1)
@algorithm_client
def describe(
    client: Any, df: Any, study: dict[str, Any], centres: dict[str, str]
) -> dict[str, Any]:
    """Partial: the centre's per-time and per-level counts (``site.describe``)."""
    name = _centre(client, centres)
    return _refusable(
        name, lambda: site.describe(study, df, name, centre_policy(client.organization_id))
    )


@data(1)
@algorithm_client
def cox_step(
    client: Any, df: Any, study: dict[str, Any], request: dict[str, Any], centres: dict[str, str]
) -> dict[str, Any]:
    """Partial: one step of a Cox model stratified by centre (``site.cox_step``)."""
    name = _centre(client, centres)
    return _refusable(
        name, lambda: site.cox_step(study, df, name, centre_policy(client.organization_id), request)
    )


@algorithm_client
def central(client: Any, study: dict[str, Any], centres: dict[str, str]) -> dict[str, Any]:
    """The researcher's task: every result of the study from the centres' aggregates.

    ``centres`` maps organisation ids (as text) to the centre names the report uses.
    """
    from rtoutcomes.federated.central import federated_results
    from rtoutcomes.federated.site import study_of

    organizations = [int(org) for org in centres]

    def ask(method: str, kwargs: dict[str, Any]) -> list[dict[str, Any]]:
        task = client.task.create(
            input_={"method": method, "kwargs": {**kwargs, "centres": centres}},
            organizations=organizations,
            name=f"rtoutcomes {method}",
            description="rtoutcomes federated outcomes study",
        )
        found = client.wait_for_results(task_id=task["id"])
        by_centre = {answer["centre"]: answer for answer in found}
        return [by_centre[centres[str(org)]] for org in organizations]

    endpoints, described, notes = federated_results(study_of(study), study, ask)
    return {
        "endpoints": endpoints,
        "centres": [{"site": d["site"], "policy": d["policy"]} for d in described],
        "notes": notes,
    }
