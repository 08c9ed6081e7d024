"""What a server imports before it has work: only what every start needs.

The heavy libraries (recognition, clustering, the LLM and cloud clients) hold tens
of megabytes each once imported, and a library that is only being browsed needs
none of them; they are imported by the code that uses them, on first use. The
binary's idle memory (README, "One folder or one file") depends on this.
"""

from __future__ import annotations

import json
import subprocess
import sys

# Imported on first use only; a package that is not installed counts as absent.
LAZY = ["onnxruntime", "tokenizers", "scipy", "sklearn", "hdbscan", "openai",
        "boto3", "botocore", "pyicloud", "webdav4"]

# What `lumilio serve` imports before it listens: the server with its job handlers,
# and every API module, as the application discovers them.
PROBE = """
import json, sys
from lumilio import server
from lumilio.app import api_routes
api_routes()
print(json.dumps(sorted(name for name in sys.modules if "." not in name)))
"""


def test_a_starting_server_leaves_the_heavy_libraries_alone():
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True,
                          text=True, timeout=120, check=True)
    imported = set(json.loads(done.stdout))
    assert [name for name in LAZY if name in imported] == []
