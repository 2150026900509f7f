"""exports: the command-line client of the incident and audit export service."""

__version__ = "0.1.0"
