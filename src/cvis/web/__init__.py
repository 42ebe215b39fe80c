"""The analyst web application: server-rendered pages over the same services and policy."""

from cvis.web.app import create_web_app

__all__ = ["create_web_app"]
