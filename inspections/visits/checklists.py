"""Checklists: versioned data shipped in ``inspections/checklists_data`` and
loaded by ``sigap migrate`` (being built)."""


async def load_shipped_checklists() -> None:
    """Insert each shipped checklist version that is not stored yet."""
