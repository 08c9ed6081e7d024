"""Lumilio: a local-first photo and video library served to your browser."""

__version__ = "0.1.0"
