"""vozagent: a self-hostable implementation of the VozAgent v1 API."""

__version__ = "0.1.0"
