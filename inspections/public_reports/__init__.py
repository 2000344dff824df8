"""Public reports (``/lapor``): anyone may tell Dinas Sosial about a concern
at an LKS without signing in; staff triage each into an incident, an
unregistered-LKS report or a closure."""
