"""todm.compress."""
