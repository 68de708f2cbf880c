"""blotquant: Western blot scans to publishable numbers.

Lanes and bands are found automatically, background is subtracted explicitly, every band is
integrated in raw detector counts, targets are divided by the loading control of the same lane,
and treatment groups are compared with the tests biologists report (one-way ANOVA with Fisher's
LSD by default). Everything chosen automatically is recorded beside the numbers.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
