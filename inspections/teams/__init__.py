"""Joint teams: Dinas Sosial with Satpol PP, kecamatan, kelurahan and RT/RW,
each covering an area; the most specific team covering an LKS gets its tasks."""
