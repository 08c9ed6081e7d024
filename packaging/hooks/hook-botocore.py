"""botocore's API models for the services Lumilio calls, rather than all of AWS.

botocore carries the model of every AWS service (about 28 MB); the cloud import only
makes S3 clients (lumilio/cloud/providers/s3.py). A hook here takes precedence over
the one of pyinstaller-hooks-contrib, which bundles every model.
"""

from PyInstaller.utils.hooks import collect_data_files

# Each needs botocore/data/<service>/; add one here when the product calls it.
SERVICES = ["s3"]

datas = collect_data_files("botocore", includes=[
    # Read by every client: endpoints, partitions, retry rules, default settings.
    "data/*.json",
    # botocore's own CA bundle, used when certifi's is not given.
    "cacert.pem",
    *(f"data/{service}/**/*" for service in SERVICES),
])
# botocore parses some error responses with it, importing it by name at run time.
hiddenimports = ["html.parser"]
