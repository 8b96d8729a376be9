"""percontrast: token-level personalization (PerContrast PIR and the PerCE loss)."""
__version__ = "0.1.0"
