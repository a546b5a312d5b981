"""Utilities for the command-line tools."""
