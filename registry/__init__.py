"""The registry domain: LKS records, regions, registration, documents.
Wired into the app and the CLI by ``registry.plugin.RegistryPlugin``."""
