"""API routers, one per concern; each route parses, calls one service, returns."""
