"""todm.regress."""
