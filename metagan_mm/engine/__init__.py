"""Loops, hooks and model wrappers (registered into mmagic's registries)."""
from .hooks import *  # noqa: F401,F403
from .runner import *  # noqa: F401,F403
