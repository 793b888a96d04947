"""Model: the frozen domain, reference resolution, the issuance ledger, lifecycle, CPD and routes."""
