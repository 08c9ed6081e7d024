# Release builds. The Python that runs PyInstaller must have the project and its
# build tools installed: `pip install -e '.[dist]'` (see README, "Building the binary").
PYTHON ?= $(if $(wildcard .venv/bin/python),.venv/bin/python,python3)

.PHONY: dist dist-onefile

# dist/lumilio-<version>-<os>-<arch>.tar.gz (.zip on Windows) and its .sha256
dist:
	$(PYTHON) packaging/dist.py

# The single self-extracting file instead of one folder (slower to start).
dist-onefile:
	$(PYTHON) packaging/dist.py --onefile
