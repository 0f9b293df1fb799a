"""ffscan: find and fix fire-and-forget bugs in Python code."""

__version__ = "0.1.0"
