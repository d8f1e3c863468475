"""Frameworks: the Regional Qualifications Framework (RQF), national frameworks, qualifications, mappings."""
