"""Recognition of prior learning: the Regional Scheme checkpoint catalogue, readiness assessments
of jurisdictions against it, and RPL cases of individual workers."""
