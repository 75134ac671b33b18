"""todm.search."""
