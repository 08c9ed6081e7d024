"""Importing this module registers every job handler with the queue.

A job found in the queue at start must have its handler registered before the
workers run, so every module that declares handlers is listed here.
"""

from lumilio.library import scanner  # noqa: F401  scan_repository, import_paths
from lumilio.pipeline import ingest  # noqa: F401  process_asset
