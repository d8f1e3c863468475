"""Keys, DIDs and Data Integrity proofs. Every signed document in Puente goes through here."""
