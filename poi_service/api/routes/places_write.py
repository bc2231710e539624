"""Write endpoints for places (editor key); the endpoints themselves come from routes.writes."""

from __future__ import annotations

from poi_service.api import bodies, schemas
from poi_service.api.routes.writes import WriteResource, write_router
from poi_service.features.geojson import place_feature
from poi_service.ingest.edit import PLACE_EDIT

router = write_router(
    WriteResource(
        noun="place",
        collection_path="/places",
        id_param="place_id",
        read_route="get_place",
        spec=PLACE_EDIT,
        collection=lambda services: services.store.places,
        feature=lambda services, place: place_feature(place, services.vocabulary),
        body_doc="Editable fields (name, category, street, housenumber, postcode, locality, phone, website, "
        "description, source, lat, lon) as an object, or a GeoJSON Feature with them as properties and a "
        "Point. Without lat/lon the address is geocoded.",
        body_example={
            "name": "Fahrschule Simonsen",
            "category": "driving_school",
            "street": "Süderstraße",
            "housenumber": "66",
            "postcode": "24955",
            "locality": "Harrislee",
        },
        input_model=bodies.PlaceInput,
        patch_model=bodies.PlacePatch,
        feature_model=schemas.PlaceFeature,
    )
)
