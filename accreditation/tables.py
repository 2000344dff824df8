"""Tables of the accreditation domain (filled in by its issue)."""
