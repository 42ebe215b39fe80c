"""cvis: known-image identification for child-protection investigations."""
__version__ = "0.1.0"
