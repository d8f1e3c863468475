"""HTTP edge: app keys, problem+json, auth helpers, core routes."""
