"""Vigil: accountable video surveillance with face recognition."""

__version__ = "0.1.0"
