"""Tables of the inspections domain (filled in by its issue)."""
