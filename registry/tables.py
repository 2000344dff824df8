"""Tables of the registry domain (filled in by its issue)."""
