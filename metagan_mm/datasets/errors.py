"""Exceptions raised by metagan-mm's data sets before training starts.

Every message names the problem *and* the fix.  The classes derive from the
built-in exception a caller would expect (``ValueError`` for bad
configuration, ``FileNotFoundError`` for a missing data root), so generic
``except ValueError`` handlers keep working.
"""


class DataConfigError(ValueError):
    """A data-set configuration that cannot work (bad argument values)."""


class SplitError(DataConfigError):
    """A class split that names unknown classes or has overlapping parts."""


class TooFewImagesError(DataConfigError):
    """A class has fewer images than an episode (or evaluation) needs."""


class DataRootError(FileNotFoundError):
    """The data root (or a required file under it) is missing or empty."""


class UnreadableImageError(ValueError):
    """An image file exists but cannot be decoded."""
