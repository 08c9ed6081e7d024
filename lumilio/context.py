"""The objects one running server shares: settings, catalog, queue, token signer."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lumilio.auth.tokens import TokenSigner
from lumilio.catalog.db import Catalog
from lumilio.config import Config
from lumilio.jobs.queue import JobQueue


@dataclass
class Context:
    config: Config
    catalog: Catalog
    jobs: JobQueue
    signer: TokenSigner
    # Filled at start: what the media layer runs on (exiftool or the fallback reader).
    runtime: dict[str, Any] = field(default_factory=dict)
