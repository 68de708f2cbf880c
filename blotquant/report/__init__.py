"""Rendering results for people: CSV text, overlays, figures, Prism tables, an HTML report.

Functions here return bytes or text (:func:`render_outputs` yields every file of a run as
``(name, bytes)``); :func:`blotquant.pipeline.write_results` decides where they are written
(atomically). Rounding happens only here, on copies.
"""

from blotquant.report.figures import (figure_bytes, render_overlay, render_plot, significance_marks,
                                      target_figure)
from blotquant.report.html import render_html
from blotquant.report.outputs import render_outputs, safe_stem
from blotquant.report.tables import csv_text, escape_formulas, prism_table

__all__ = ["csv_text", "escape_formulas", "prism_table", "render_overlay", "render_plot", "target_figure",
           "figure_bytes", "significance_marks", "render_html", "render_outputs", "safe_stem"]
