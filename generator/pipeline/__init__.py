"""Pipeline: the checking stages, every artifact of a site, the build cache, workers, the atomic writer."""
