"""Exceptions raised for user mistakes.

Every error a user can cause (a bad config, an unreadable image, a lane layout that does not fit)
is a :class:`BlotquantError`. The command line turns one into a single line and exit code 2; no
traceback is shown for them. Each subclass specialises ``ValueError`` so callers that only know
the builtin still catch it.
"""

__all__ = ["BlotquantError", "ConfigError", "ImageError", "LayoutError", "StatsError"]


class BlotquantError(ValueError):
    """Base class for every error caused by the user's input."""


class ConfigError(BlotquantError):
    """The experiment config is invalid: names the file, the key path and the fix."""


class ImageError(BlotquantError):
    """An image cannot be read or is not usable for quantification."""


class LayoutError(BlotquantError):
    """The lanes or bands described by the config do not fit the image."""


class StatsError(BlotquantError):
    """The data cannot be tested as asked (e.g. fewer than two groups)."""
