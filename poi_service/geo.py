"""Distances on the WGS84 ellipsoid and the unit-sphere embedding the point index uses.

Distances are geodesics on WGS84 (Karney's algorithm via pyproj, the same as geopy.distance.geodesic).
The index works on a unit sphere; the bounds below turn a geodesic radius into a safe sphere angle.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
from pyproj import Geod

FloatArray = npt.NDArray[np.float64]

_GEOD = Geod(ellps="WGS84")

# A geodesic of length d between two points spans a sphere angle theta (geodetic lat/lon taken as
# spherical) with d / theta between the ellipsoid's smallest and largest radius of curvature
# (6,335,439 m and 6,399,594 m). R_LOW_M sits below that range, so no true hit is ever missed.
R_LOW_M = 6_300_000.0
# The range itself: a(1 - e^2) (meridional, equator) and a / sqrt(1 - e^2) (polar). The metric ratio
# between the ellipsoid and the sphere lies in [R_MIN_M, R_MAX_M] everywhere, so a geodesic d and the
# sphere angle theta of its end points satisfy R_MIN_M * theta <= d <= R_MAX_M * theta (the ellipsoid
# geodesic maps to a sphere path of angle >= theta; the great circle maps to an ellipsoid path of
# length <= R_MAX_M * theta). The padding covers float rounding of chords and angles.
_A_M, _E2 = 6_378_137.0, 6.69437999014e-3
R_MIN_M = _A_M * (1.0 - _E2) * (1.0 - 1e-9)
R_MAX_M = _A_M / math.sqrt(1.0 - _E2) * (1.0 + 1e-9)


def geodesic_m(lon: float, lat: float, lons: FloatArray, lats: FloatArray) -> FloatArray:
    """Geodesic distances in metres from one point to many (vectorised)."""
    if lons.size == 0:
        return np.empty(0, dtype=np.float64)
    _, _, dist = _GEOD.inv(np.full(lons.shape, lon), np.full(lats.shape, lat), lons, lats)
    return np.asarray(dist, dtype=np.float64)


def geodesics_m(lon: float, lat: float, lons: list[float], lats: list[float]) -> list[float]:
    """Geodesic distances from one point to a few others: pyproj's scalar path, cheaper than its
    array path below ~50 points (no buffer copies)."""
    inv = _GEOD.inv
    return [inv(lon, lat, x, y)[2] for x, y in zip(lons, lats, strict=True)]


def geodesic_pair_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Geodesic distance in metres between two points."""
    _, _, dist = _GEOD.inv(lon1, lat1, lon2, lat2)
    return float(dist)


def to_xyz(lons: FloatArray, lats: FloatArray) -> FloatArray:
    """Unit-sphere cartesian coordinates, shape (n, 3)."""
    lon_r = np.radians(lons)
    lat_r = np.radians(lats)
    cos_lat = np.cos(lat_r)
    return np.column_stack((cos_lat * np.cos(lon_r), cos_lat * np.sin(lon_r), np.sin(lat_r)))


def unit_vector(lon: float, lat: float) -> tuple[float, float, float]:
    """One point on the unit sphere (plain math: numpy costs more than it saves for one point)."""
    lon_r = math.radians(lon)
    lat_r = math.radians(lat)
    cos_lat = math.cos(lat_r)
    return (cos_lat * math.cos(lon_r), cos_lat * math.sin(lon_r), math.sin(lat_r))


def chord_upper(radius_m: float) -> float:
    """A unit-sphere chord that contains every point within radius_m (geodesic)."""
    theta = min(radius_m / R_LOW_M, np.pi)
    return float(2.0 * np.sin(theta / 2.0))


def sphere_angles(chords: FloatArray) -> FloatArray:
    """Sphere angles (radians) of unit-sphere chords; times R_MIN_M / R_MAX_M they bound the geodesic."""
    return np.asarray(2.0 * np.arcsin(np.minimum(chords * 0.5, 1.0)), dtype=np.float64)
