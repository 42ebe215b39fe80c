"""ZIP codes to points and distances, offline (the `zipcodes` package)."""

from __future__ import annotations

import math
from functools import lru_cache

import zipcodes

EARTH_RADIUS_MILES = 3958.8


@lru_cache(maxsize=4096)
def zip_point(zip_code: str) -> tuple[float, float] | None:
    """The ZIP code's centre (lat, lon), or None for an unknown or malformed code."""
    if len(zip_code) != 5 or not zip_code.isdigit():
        return None
    try:
        found = zipcodes.matching(zip_code)
    except (TypeError, ValueError):
        return None
    if not found or not found[0].get("lat"):
        return None
    return float(found[0]["lat"]), float(found[0]["long"])


def miles(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance (haversine)."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + \
        math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_MILES * math.asin(math.sqrt(h))
