"""todm.export."""
