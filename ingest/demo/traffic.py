"""Where people and vehicles go in each kind of place, and random schedules of them.

Every route starts and ends out of sight (off the frame, behind the camera, or round a corner of a
cross street), so a mover that finishes its route inside the scene's duration is never cut by the
loop point. Traffic keeps to the right, as in Vietnam.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ingest.demo.world import Kind, Mover, Place, path_length

SPEEDS: dict[Kind, tuple[float, float]] = {"person": (1.0, 1.6), "motorbike": (5.0, 9.0), "car": (5.0, 10.0)}  # m/s


@dataclass(frozen=True)
class Route:
    path: tuple[tuple[float, float], ...]  # ground points (x, z), m
    kinds: tuple[Kind, ...]  # drawn from uniformly: repeat a kind to make it more frequent
    limit: float = math.inf  # speed limit, m/s: a kind's speed range is scaled down to fit under it


_WALKERS: tuple[Kind, ...] = ("person",)
_ALLEY_TRAFFIC: tuple[Kind, ...] = ("person", "person", "motorbike")
_STREET_TRAFFIC: tuple[Kind, ...] = ("motorbike", "motorbike", "motorbike", "motorbike", "car")

ROUTES: dict[Place, tuple[Route, ...]] = {
    "alley": (  # towards the camera on its left (x < 0), away on the right; the T at the end hides turns
        Route(((-4.5, 31.5), (-0.6, 31.5), (-0.6, 0.5)), _ALLEY_TRAFFIC, limit=4.5),
        Route(((4.5, 31.5), (-0.6, 31.5), (-0.6, 0.5)), _ALLEY_TRAFFIC, limit=4.5),
        Route(((0.6, 0.5), (0.6, 32.5), (-4.5, 32.5)), _ALLEY_TRAFFIC, limit=4.5),
        Route(((0.6, 0.5), (0.6, 32.5), (4.5, 32.5)), _ALLEY_TRAFFIC, limit=4.5),
        Route(((-4.5, 32.0), (4.5, 32.0)), _ALLEY_TRAFFIC, limit=4.5),
        Route(((4.5, 32.5), (-4.5, 32.5)), _ALLEY_TRAFFIC, limit=4.5),
    ),
    "crossroad": (  # main road along z (lanes at x = ±2, ±4.5), cross street along x (z = 26.5 east, 29.5 west)
        Route(((4.5, 0.5), (4.5, 26.5), (22.0, 26.5)), _STREET_TRAFFIC),
        Route(((2.0, 0.5), (2.0, 29.5), (-22.0, 29.5)), _STREET_TRAFFIC),
        Route(((22.0, 29.5), (-2.0, 29.5), (-2.0, 0.5)), _STREET_TRAFFIC),
        Route(((-22.0, 26.5), (-4.5, 26.5), (-4.5, 0.5)), _STREET_TRAFFIC),
        Route(((-22.0, 26.5), (22.0, 26.5)), _STREET_TRAFFIC),
        Route(((22.0, 29.5), (-22.0, 29.5)), _STREET_TRAFFIC),
        Route(((8.5, 0.5), (8.5, 23.5), (22.0, 23.5)), _WALKERS),
        Route(((-22.0, 23.5), (-8.5, 23.5), (-8.5, 0.5)), _WALKERS),
        Route(((-8.5, 0.5), (-8.5, 19.8), (8.5, 19.8), (8.5, 0.5)), _WALKERS),  # over the zebra crossing
    ),
    "shopfront": (  # the street runs across the view; the pavement and parked bikes are in front of the shop
        Route(((-16.0, 12.8), (16.0, 12.8)), _WALKERS),
        Route(((16.0, 12.8), (-16.0, 12.8)), _WALKERS),
        Route(((-16.0, 7.8), (16.0, 7.8)), _STREET_TRAFFIC),
        Route(((16.0, 10.5), (-16.0, 10.5)), _STREET_TRAFFIC),
    ),
}


def random_movers(rng: np.random.Generator, routes: tuple[Route, ...], count: int, seconds: float) -> tuple[Mover, ...]:
    """Up to `count` movers on random routes, each entering and leaving within [0, seconds]; by start time."""
    movers = []
    for _ in range(count):
        route = routes[int(rng.integers(len(routes)))]
        kind = route.kinds[int(rng.integers(len(route.kinds)))]
        low, high = SPEEDS[kind]
        speed = float(rng.uniform(low, high)) * min(1.0, route.limit / high)
        duration = path_length(route.path) / speed
        if duration < seconds:
            movers.append(Mover(kind, route.path, float(rng.uniform(0.0, seconds - duration)), speed,
                                int(rng.integers(1 << 31))))
    return tuple(sorted(movers, key=lambda mover: mover.start))
