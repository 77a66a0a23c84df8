"""The package version, for the CLI, the reports and the manifests."""

__version__ = "0.1.0"
