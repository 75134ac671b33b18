"""todm.supernet."""
