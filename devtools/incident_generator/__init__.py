"""The pieces of the incident demo generator; ``devtools.generate_incidents`` puts them together.

- ``vocabulary``: names, titles, texts and weighted lists, read once from devtools/data/incident_vocabulary.toml;
- ``basics``: time units, ids and random draws; ``tenant``: a tenant's people, roles, teams, components, assets;
- ``draft``: one incident under construction (its events) and its milestones;
- ``incident``: the incident itself, with its children from ``roles``, ``impacts``, ``work`` (teams, runbooks,
  tasks, tickets), ``retrospectives`` and ``alerts`` (the incident API's metrics, alert history and alerts).
"""
