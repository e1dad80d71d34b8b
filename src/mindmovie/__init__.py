"""mindmovie: turn written goals into a finished mind movie."""

__version__ = "0.1.0"
