"""Federation with peer nodes: trust lists, recognition agreements, scheduled sync (roadmap capability 4)."""
