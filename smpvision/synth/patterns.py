"""Hair-loss patterns as relative-density fields over the head, and the zone thresholds.

Head frame: x to the side, y to the front (nose), z up; points are unit vectors on the scalp sphere.
A pattern gives `loss` in 0..1 for any point; relative density D = 1 − loss (times subject noise).
Zones come from D with fixed thresholds, so labels and drawn hair always agree.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# D ≥ HAIR_MIN reads as full hair (half of natural density already looks full); below BALD_MAX is bald.
HAIR_MIN = 0.55
BALD_MAX = 0.12

PATTERNS: tuple[str, ...] = (
    "none",
    "norwood_2",
    "norwood_3",
    "norwood_3_vertex",
    "norwood_4",
    "norwood_5",
    "norwood_6",
    "norwood_7",
    "ludwig",
    "diffuse",
    "areata",
    "bald",
)
_PATTERN_WEIGHTS = (0.08, 0.08, 0.09, 0.09, 0.1, 0.1, 0.09, 0.08, 0.08, 0.06, 0.07, 0.08)


def unit(az_deg: float, el_deg: float) -> np.ndarray:
    az, el = np.radians(az_deg), np.radians(el_deg)
    return np.array([np.cos(el) * np.sin(az), np.cos(el) * np.cos(az), np.sin(el)], np.float32)


def hairline_elevation(az_deg: np.ndarray, shift: float) -> np.ndarray:
    """Elevation (deg) of the juvenile hairline: high at the forehead, low at the nape."""
    knots = np.array([0, 30, 55, 75, 95, 120, 150, 180], np.float32)
    elev = np.array([30, 27, 18, 2, -22, -32, -40, -44], np.float32) + shift
    return np.interp(np.abs(az_deg), knots, elev).astype(np.float32)


def _soft(x: np.ndarray, width: float) -> np.ndarray:
    """Smooth step from 0 to 1 across `width` degrees (logistic); real transitions are gradual."""
    return 1.0 / (1.0 + np.exp(-np.clip(x / width, -30, 30)))


def _angle(p: np.ndarray, c: np.ndarray) -> np.ndarray:
    return np.degrees(np.arccos(np.clip(p @ c, -1.0, 1.0)))


@dataclass
class LossPattern:
    name: str
    params: dict

    def loss(self, p: np.ndarray) -> np.ndarray:
        """p: (..., 3) unit vectors in the head frame → loss in 0..1."""
        q = self.params
        name = self.name
        zero = np.zeros(p.shape[:-1], np.float32)
        if name == "none":
            return zero
        if name == "bald":
            return np.full(p.shape[:-1], q["level"], np.float32)
        if name == "areata":
            out = zero
            for c, r in zip(q["centres"], q["radii"], strict=True):
                out = np.maximum(out, _soft(r - _angle(p, c), 1.2))
            return out
        tau = q["tau"]
        if name in ("ludwig", "diffuse"):
            top = _soft(q["radius"] - _angle(p, q["top"]), tau * 2.5)
            keep_front = _soft(_angle(p, q["front"]) - q["front_margin"], tau)
            part = np.exp(-((p[..., 0] / q["part_width"]) ** 2)) * q["part_gain"] * (p[..., 1] > -0.3)
            return np.clip((top * q["level"] + part * top) * keep_front, 0, 0.92).astype(np.float32)
        # Norwood: temple recession ∪ frontal recession ∪ vertex ∪ (VI–VII) everything above the fringe.
        out = _soft(q["front_r"] - _angle(p, q["front"]), tau)
        for temple in q["temples"]:
            out = np.maximum(out, _soft(q["temple_r"] - _angle(p, temple), tau))
        if q["vertex_r"] > 0:
            out = np.maximum(out, _soft(q["vertex_r"] - _angle(p, q["crown"]), tau))
        if q["fringe_top"] is not None:
            el = np.degrees(np.arcsin(np.clip(p[..., 2], -1, 1)))
            az = np.degrees(np.arctan2(p[..., 0], p[..., 1]))
            fringe = np.interp(np.abs(az), [0, 90, 180], q["fringe_top"])
            out = np.maximum(out, _soft(el - fringe, tau))
        return out.astype(np.float32)


def sample_pattern(rng: np.random.Generator, name: str | None = None) -> LossPattern:
    if name is None:
        w = np.array(_PATTERN_WEIGHTS)
        name = PATTERNS[int(rng.choice(len(PATTERNS), p=w / w.sum()))]
    u = rng.uniform
    tau = float(u(2.5, 6.0))
    if name == "none":
        return LossPattern(name, {})
    if name == "bald":
        return LossPattern(name, {"level": float(u(0.93, 1.0))})
    if name == "areata":
        n = int(rng.integers(1, 5))
        centres = [unit(u(-180, 180), u(-10, 80)) for _ in range(n)]
        return LossPattern(name, {"centres": centres, "radii": [float(u(5, 22)) for _ in range(n)]})
    if name in ("ludwig", "diffuse"):
        ludwig = name == "ludwig"
        return LossPattern(
            name,
            {
                "tau": tau,
                "top": unit(u(-20, 20) + (0 if ludwig else 180 * rng.integers(0, 2)), u(60, 85)),
                "radius": float(u(25, 45) if ludwig else u(35, 60)),
                "level": float(u(0.45, 0.8)),
                "front": unit(0, 31),
                "front_margin": float(u(4, 10) if ludwig else 0.0),
                "part_width": float(u(0.05, 0.12)),
                "part_gain": float(u(0.15, 0.45) if ludwig else 0.0),
            },
        )
    stage = {"norwood_2": 2, "norwood_3": 3, "norwood_3_vertex": 3.5, "norwood_4": 4, "norwood_5": 5,
             "norwood_6": 6, "norwood_7": 7}[name]  # fmt: skip
    temple_az = u(30, 45)
    temple_r = {2: u(7, 11), 3: u(13, 19), 3.5: u(12, 18), 4: u(17, 24), 5: u(22, 30), 6: 32, 7: 34}[stage]
    front_r = {2: u(0, 4), 3: u(2, 8), 3.5: u(2, 8), 4: u(10, 20), 5: u(22, 38), 6: u(45, 60), 7: u(55, 70)}
    vertex_r = {2: 0.0, 3: 0.0, 3.5: u(10, 18), 4: u(14, 22), 5: u(20, 30), 6: u(30, 40), 7: u(35, 45)}
    fringe = None
    if stage >= 6:
        side = u(5, 18) if stage == 6 else u(-5, 8)
        fringe = [side + 10, side, side + u(8, 20)]
    return LossPattern(
        name,
        {
            "tau": tau,
            "front": unit(0, 30),
            "front_r": float(front_r[stage]),
            "temples": [unit(temple_az, 24), unit(-temple_az, 24)],
            "temple_r": float(temple_r),
            "crown": unit(180 + u(-10, 10), u(62, 75)),
            "vertex_r": float(vertex_r[stage]),
            "fringe_top": fringe,
        },
    )


def zones_from_density(d: np.ndarray) -> np.ndarray:
    """Relative density → zone ids 1 hair / 2 thinning / 3 bald."""
    return np.where(d >= HAIR_MIN, 1, np.where(d >= BALD_MAX, 2, 3)).astype(np.uint8)
