"""The HTTP API (FastAPI): thin routes over the same services the CLI uses."""

from cvis.api.app import create_app

__all__ = ["create_app"]
