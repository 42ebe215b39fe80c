"""The ASGI entry point uvicorn imports in each worker process."""

from cvis.api.app import create_app, freeze_heap
from cvis.index.kernel import warm_up

app = create_app()
warm_up()  # compiled before the worker takes requests, not during its first PDQ lookup
freeze_heap()  # a served process: what is alive now lives as long as it does
