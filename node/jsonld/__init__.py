"""JSON-LD processing with bundled contexts only: no context is ever fetched from the network."""
