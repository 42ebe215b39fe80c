"""Request and response models of the HTTP API (what /openapi.json documents)."""
