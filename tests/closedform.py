"""Closed-form blots for the band tests: exact pixel-row integrals from scipy's distributions
(not blotquant's own shape code), so every band's true volume is known exactly.

Used by tests/test_bandmodel.py (the opt-in joint model) and tests/test_bands_hard.py (the
default profile method) on the same named hard cases.
"""

import numpy as np
from scipy.stats import exponnorm, norm

from blotquant.lanes import Lanes

N_LANES, PITCH, WIDTH = 8, 60, 40


def rows(n, mu, sigma, area, tau=0.0):
    """Exact pixel-row integrals of a Gaussian (or exponentially modified Gaussian) band."""
    edges = np.arange(n + 1) - 0.5
    if tau > 0:
        cdf = exponnorm.cdf(edges, tau / sigma, loc=mu, scale=sigma)
    else:
        cdf = norm.cdf(edges, loc=mu, scale=sigma)
    return area * np.diff(cdf)


def flat_rows(n, mu, sigma, area, length):
    """Pixel-row integrals of a flat-topped band (a box of ``length`` rows convolved with a
    Gaussian of sd ``sigma``): scipy's normal CDF on a 1/50-row grid."""
    fine = np.arange(-0.5, n - 0.5, 0.02) + 0.01
    f = (norm.cdf(fine - mu + length / 2, scale=sigma)
         - norm.cdf(fine - mu - length / 2, scale=sigma)) / length
    return area * f.reshape(n, 50).sum(1) * 0.02


def blot(bands_of, n=260, noise=4.0, seed=0, smear=0.0):
    """``N_LANES`` lanes; ``bands_of(lane, rng)`` -> list of (row profile, kind) per lane.

    ``kind`` is True or ``"target"`` for the target (counted in the truth); anything else (False,
    ``"band"``, ``"background"`` for a tail) is not volume. Background: a sloped baseline (+ a
    broad smear hump of ``smear`` x the target's peak per lane). Returns image, lanes and the
    target's true volume per lane.
    """
    rng = np.random.default_rng(seed)
    img = np.zeros((n, PITCH * N_LANES)) + 300.0 + 0.4 * np.arange(n)[:, None]
    truth = []
    for k in range(N_LANES):
        prof = np.zeros(n)
        vol = 0.0
        for p, kind in bands_of(k, rng):
            prof += p
            vol += p.sum() if (kind is True or kind == "target") else 0.0
        if smear:
            hump = norm.pdf(np.arange(n), rng.uniform(0.3, 0.7) * n, rng.uniform(40, 70))
            prof += smear * prof.max() * hump / hump.max()
        x0 = PITCH * k + (PITCH - WIDTH) // 2
        img[:, x0:x0 + WIDTH] += prof[:, None] / WIDTH
        truth.append(vol)
    img += rng.normal(0.0, noise, img.shape)
    lanes = Lanes(centers=PITCH * np.arange(N_LANES) + (PITCH - WIDTH) // 2 + (WIDTH - 1) / 2.0,
                  widths=np.full(N_LANES, float(WIDTH)))
    return img, lanes, np.array(truth)
