"""Adapter tests: the WSGI and ASGI middlewares in front of real frameworks and servers."""
