"""Shared code of the export service: API routes, domain logic and data access.

Layers, one direction only: ``api`` (routes, HTTP shapes) -> ``logic`` (plain functions) ->
``dal`` (the only package that touches boto3). ``models`` holds the pydantic models each layer owns.
"""

__version__ = "0.1.0"  # the service's version, named in every export manifest; equals pyproject.toml's
