"""What the library-wide analyses need from each processed asset.

Run at the end of an asset's pipeline: the position goes into the place clusters
(its geohashes, and a rebuild of its repository's clusters when they change), and a
photo's look is fingerprinted from its small thumbnail for duplicate detection. Both
are cheap next to the steps before them, and both are redone by their own rebuilds
for assets that missed them.
"""

from __future__ import annotations

import logging

from lumilio.context import Context
from lumilio.services import duplicates, locations

log = logging.getLogger(__name__)


def after_processing(ctx: Context, asset_id: str, asset_type: str,
                     status: dict) -> None:
    tasks = status.get("tasks", {})
    if tasks.get("metadata_asset", {}).get("state") == "complete":
        locations.record_position(ctx, asset_id)
    if asset_type == "PHOTO" and tasks.get("thumbnail_asset", {}).get(
            "state") == "complete":
        duplicates.record_fingerprint(ctx, asset_id)
