"""Multi-centre studies without pooling patient rows: a vantage6 algorithm.

Each centre keeps its analysis table; the partial functions (``site``) return aggregates only,
under the centre's own disclosure policy (``disclosure``); the central function (``central``)
assembles the same results as ``rtoutcomes analyze`` on the pooled table: Kaplan-Meier,
log-rank and follow-up from per-time counts (times coarsened at the centre), Cox models
stratified by centre from per-centre sums (exactly the pooled stratified fit). ``algorithm``
holds the vantage6 entry points (the ``federated`` extra) and ``simulate`` runs the protocol
on one machine through vantage6's mock client. docs/federated.md explains the protocol, the
threat model and the deployment on a vantage6 network.
"""
