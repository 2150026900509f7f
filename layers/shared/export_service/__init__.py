"""Shared code of the export service: API routes, domain logic and data access.

Layers, one direction only: ``api`` (routes, HTTP shapes) -> ``logic`` (plain functions) ->
``dal`` (the only package that touches boto3). ``models`` holds the pydantic models each layer owns.
"""
