"""The library's version: one source, read by the package, the stored runs' metadata and packaging."""

__version__ = "0.1.0"
