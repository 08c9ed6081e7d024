"""Cloud import: bring photos home from a cloud service into a repository.

    providers/     one module per kind of service behind one small interface
    credentials    signed-in accounts, their secrets sealed in the catalog
    imports        import runs: queued jobs that download, verify and commit items

An imported file takes the path of an upload: it is written to the repository's
staging folder, checked, and committed by the ingest pipeline into `inbox/`, so the
same content is never imported twice.
"""
