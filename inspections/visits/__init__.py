"""Visit reports: versioned checklists, the report an inspector files from a
task on a tablet (offline first), its photos, and staff review."""
