"""The overview: what the office sees across the domains (the dashboard, the
map of LKS, the monthly report). It reads the registry, joint monitoring and
accreditation through their services and tables and is read by none of them."""
