"""A small simulated experiment whose every name is hostile to HTML, CSV and file systems.

Used by tests/test_report.py and tests/test_browser.py: the experiment, group, sample, membrane,
target and file names hold HTML markup, quotes, ampersands, spreadsheet formulas and slashes.
One band is saturated, so the report has flags that repeat those names.
"""

import tifffile
import yaml

EXPERIMENT = 'exp<b>bold</b> & "q"'.replace("/", "")  # the experiment name may not hold '/'
CONTROL = "Control"
GROUP_SCRIPT = "<script>alert(1)</script>"
GROUP_AMP = 'A&B "x"'
GROUPS = [CONTROL, GROUP_SCRIPT, GROUP_AMP]
SAMPLES = {  # sample -> group, left to right on the membrane
    "C1": CONTROL, "C2": CONTROL, "C3": CONTROL,
    '=HYPERLINK("x")': GROUP_SCRIPT, "-1+2": GROUP_SCRIPT, "<img src=x onerror=alert(2)>": GROUP_SCRIPT,
    "@SUM(A1)": GROUP_AMP, "+A&B": GROUP_AMP, "S'9\"": GROUP_AMP,
}
MEMBRANE = 'm<1>/"a"'
TARGET = "<i>TNAP</i>/p"
TARGET_2 = "<i>TNAP</i> p"  # made safe for file names (i_TNAP_i_p), it collides with TARGET
LOADING = "actin \"β\" & co"
IMAGE = "blot&<1>.tif"
SATURATED_LANE = 1  # lane (from 1) of sample C1: its TARGET band is saturated


def build(folder, *, posthoc="lsd"):
    """Write the image and config into ``folder``; return the config path and the simulation."""
    from blotquant.simulate import simulate_blot

    rows = {"T": 80, "U": 160, "A": 250}
    sim = simulate_blot(shape=(330, 760), n_lanes=9, lane_width=60, margin=60, targets=rows,
                        read_noise=5.0, saturate=[(SATURATED_LANE, "T")], seed=7)
    tifffile.imwrite(folder / IMAGE, sim.image)
    names = {"T": TARGET, "U": TARGET_2, "A": LOADING}
    cfg = {
        "experiment": EXPERIMENT,
        "images": ".",
        "loading_control": LOADING,
        "control_group": CONTROL,
        "groups": GROUPS,
        "samples": SAMPLES,
        "membranes": [{
            "name": MEMBRANE,
            "lanes": list(SAMPLES),
            "images": [{"file": IMAGE, "targets": {
                names[t]: {"rows": [int(w[0]), int(w[1])]} for t, w in sim.windows.items()}}],
        }],
        "analysis": {"stats": {"test": "anova", "posthoc": posthoc, "alpha": 0.05}},
    }
    path = folder / "hostile.yaml"
    path.write_text(yaml.safe_dump(cfg, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path, sim
