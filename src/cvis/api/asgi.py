"""The ASGI entry point uvicorn imports in each worker process."""

from cvis.api.app import create_app, freeze_heap

app = create_app()
freeze_heap()  # a served process: what is alive now lives as long as it does
