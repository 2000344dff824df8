"""Incidents: a report of abuse, neglect or danger at an LKS, the urgent
joint visit it calls for, and what Dinas Sosial did about it."""
