"""Write endpoints for alliance memberships (editor key); the endpoints come from routes.writes."""

from __future__ import annotations

from poi_service.api import bodies, schemas
from poi_service.api.routes.writes import WriteResource, write_router
from poi_service.features.geojson import membership_feature
from poi_service.ingest.edit import MEMBER_EDIT

router = write_router(
    WriteResource(
        noun="membership",
        collection_path="/alliance/members",
        id_param="member_id",
        read_route="get_member",
        spec=MEMBER_EDIT,
        collection=lambda services: services.store.memberships,
        feature=lambda services, member: membership_feature(member),
        body_doc="Editable fields (name, kind, country, state, alliance, role, joined, source_url, lat, lon) "
        "as an object, or a GeoJSON Feature with them as properties and a Point. Without lat/lon the "
        "municipality is geocoded by name, kind, state and country.",
        body_example={
            "name": "Harrislee",
            "kind": "Gemeinde",
            "state": "Schleswig-Holstein",
            "alliance": "buendnis",
            "joined": "2024-05",
        },
        input_model=bodies.MembershipInput,
        patch_model=bodies.MembershipPatch,
        feature_model=schemas.MembershipFeature,
    )
)
