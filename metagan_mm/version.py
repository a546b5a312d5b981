"""The version of metagan-mm (read by ``setup.py`` without importing)."""
__version__ = '0.2.0'
