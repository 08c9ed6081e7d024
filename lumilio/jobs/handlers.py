"""Importing this module registers every job handler with the queue.

A job found in the queue at start must have its handler registered before the
workers run, so every module that declares handlers is listed here.
"""

from lumilio.cloud import imports  # noqa: F401  cloud_import
from lumilio.library import scanner  # noqa: F401  scan_repository, import_paths
from lumilio.pipeline import ingest  # noqa: F401  process_asset
from lumilio.pipeline import recognition  # noqa: F401  process_face, _ocr, ...
from lumilio.pipeline import transcode  # noqa: F401  transcode_asset
from lumilio.services import stacks  # noqa: F401  detect_stacks
from lumilio.services import locations  # noqa: F401  rebuild_locations
