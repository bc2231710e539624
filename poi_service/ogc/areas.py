"""The shipped BKG VG5000 boundaries as read-only collections `states` and `districts`, from memory."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import shapely

from poi_service.attribution import BKG
from poi_service.boundaries import Boundaries, Level
from poi_service.errors import NotFound
from poi_service.ogc.evaluate import circle_bounds, distance_m
from poi_service.ogc.model import Item, Queryable
from poi_service.ogc.request import ItemsRequest
from poi_service.ogc.sources import Extent, Hints, Source
from poi_service.services import Services

ATTRIBUTION = BKG


@cache
def _features(data_dir: Path, level: Level) -> tuple[Item, ...]:
    """Every area of a level as an item, ordered by AGS (GeoJSON built once per process)."""
    boundaries = Boundaries.load(data_dir)
    areas = sorted((a for a in boundaries.areas if a.level == level), key=lambda a: a.ags)
    items = []
    for area in areas:
        props: dict[str, Any] = {"ags": area.ags, "name": area.name, "designation": area.designation}
        if level == Level.DISTRICT:
            state = boundaries.get(area.ags[:2])
            props.update(state=state.name if state else None, state_ags=area.ags[:2])
        geometry = shapely.geometry.mapping(area.geometry)
        shapely.prepare(area.geometry)
        items.append(
            Item(
                {"type": "Feature", "id": area.ags, "geometry": geometry, "properties": props}, area.geometry
            )
        )
    return tuple(items)


def _copy(item: Item, distance: float | None) -> Item:
    """A fresh item (its own properties) so a request can add distance_m without touching the cache."""
    props = dict(item.feature["properties"])
    if distance is not None:
        props["distance_m"] = round(distance, 2)
    return Item({**item.feature, "properties": props}, item.geometry)


class AreaSource(Source):
    """States or districts; bbox is an exact intersects test, near= a geodesic distance (0 inside)."""

    geometry_format = "polygon-or-multipolygon"

    def __init__(self, level: Level, collection_id: str, title: str, description: str) -> None:
        self.level = level
        self.id = collection_id
        self.title = title
        self.description = description
        names = ["ags", "name", "designation"] + (["state", "state_ags"] if level == Level.DISTRICT else [])
        self.properties = (*names, "distance_m")

    def queryables(self, services: Services) -> dict[str, Queryable]:
        titles = {
            "ags": "Official key (AGS)",
            "name": "Name",
            "designation": "Designation (Land, Kreis, ...)",
            "state": "State",
            "state_ags": "State key (AGS, 2 digits)",
        }
        qs = [Queryable(n, "string", titles[n]) for n in self.properties if n != "distance_m"]
        qs.append(Queryable("geometry", "geometry", "Boundary", geometry_format=self.geometry_format))
        return {q.name: q for q in qs}

    def items(self, services: Services) -> tuple[Item, ...]:
        return _features(services.settings.data_dir.resolve(), self.level)

    def extent(self, services: Services) -> Extent | None:
        items = self.items(services)
        if not items:
            return None
        bounds = shapely.total_bounds([i.geometry for i in items])
        return Extent((float(bounds[0]), float(bounds[1]), float(bounds[2]), float(bounds[3])))

    def get(self, services: Services, feature_id: str) -> Item:
        for item in self.items(services):
            if item.id == feature_id:
                return _copy(item, None)
        raise NotFound(f"no {self.id[:-1]} with AGS {feature_id!r} in collection {self.id!r}")

    def select(
        self, services: Services, req: ItemsRequest, limit: int, offset: int, hints: Hints
    ) -> tuple[list[Item], int]:
        items = list(self.items(services))
        if req.boxes:
            boxes = shapely.union_all([shapely.box(*b) for b in req.boxes])
            # Features without a geometry match any bbox (none here: every area has one).
            items = [i for i in items if i.geometry is None or shapely.intersects(i.geometry, boxes)]
        near = req.near
        if near is None:
            chosen = [_copy(i, None) for i in items]
        else:
            lon, lat = near.point.lon, near.point.lat
            box = circle_bounds(lon, lat, near.radius_m)
            if box is not None:
                items = [
                    i
                    for i in items
                    if i.geometry is not None and shapely.intersects(i.geometry, shapely.box(*box))
                ]
            ranked = sorted(
                (distance_m(lon, lat, i.geometry), i.id, i) for i in items if i.geometry is not None
            )
            chosen = [_copy(i, d) for d, _, i in ranked if d <= near.radius_m]
        return chosen[offset : offset + limit], len(chosen)


STATES = AreaSource(
    Level.STATE,
    "states",
    "German states (Länder)",
    f"The 16 states from the BKG VG5000 boundaries (1:5,000,000, 2021), read-only. {ATTRIBUTION}.",
)
DISTRICTS = AreaSource(
    Level.DISTRICT,
    "districts",
    "German districts (Kreise)",
    f"The 400 districts and district-free cities from the BKG VG5000 boundaries (1:5,000,000, 2021-07-01), "
    f"read-only; each names its state. {ATTRIBUTION}.",
)
