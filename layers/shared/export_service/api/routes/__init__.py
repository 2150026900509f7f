"""Route modules; each function's app.py includes the router of its one route."""
