"""Rendering results for people: CSV text, overlay and plot PNGs, an HTML report.

Functions here return bytes or text; :mod:`blotquant.pipeline` decides where they are written
(atomically). Rounding happens only here, on copies.
"""

from blotquant.report.figures import render_overlay, render_plot
from blotquant.report.html import render_html
from blotquant.report.tables import csv_text

__all__ = ["csv_text", "render_overlay", "render_plot", "render_html"]
