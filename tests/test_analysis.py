"""The analysts' API on the shipped data: loaders, population joins, timeline, spatial helpers, figures,
offline maps. Real files and a real GeoPackage store built from data/ (no mocks)."""

from __future__ import annotations

import csv
from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from geopy.distance import geodesic

import poi_service.analysis as pa
from poi_service.ingest.validate import parse_joined
from poi_service.models import DatePrecision
from poi_service.store import Store
from poi_service.store.sqlite import SqliteStore
from tests.conftest import DATA_DIR

ROOT = Path(__file__).resolve().parent.parent

MEMBERS_CSV = DATA_DIR / "alliance" / "members_sourced.csv"
PLACES_CSV = DATA_DIR / "places" / "harrislee_flensburg_places_sourced.csv"
GAZETTEER_CSV = DATA_DIR / "gazetteer" / "gemeinden_destatis_2023-03-31.csv"


def csv_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


_SHARED: dict[str, Store] = {}  # modules that import the fixture get their own FixtureDef: share the store


@pytest.fixture(scope="session")
def shipped_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    """One store holding the shipped data for the whole session (seeding takes a few seconds)."""
    if "store" not in _SHARED:
        _SHARED["store"] = pa.open_shipped_store(tmp_path_factory.mktemp("shipped") / "poi.gpkg", DATA_DIR)
    yield _SHARED["store"]
    store = _SHARED.pop("store", None)  # session teardown: the first finaliser closes it
    if store is not None:
        store.close()


@pytest.fixture(scope="session")
def members(shipped_store: Store) -> gpd.GeoDataFrame:
    return pa.read_memberships(shipped_store)


@pytest.fixture(scope="session")
def gazetteer() -> gpd.GeoDataFrame:
    return pa.read_gazetteer(DATA_DIR)


def test_memberships_frame_is_typed_and_complete(members: gpd.GeoDataFrame) -> None:
    rows = csv_rows(MEMBERS_CSV)
    assert isinstance(members, gpd.GeoDataFrame)
    assert members.crs == "EPSG:4326"
    assert len(members) == len(rows)
    assert Counter(members["alliance"].astype(str)) == Counter(r["alliance"] for r in rows)
    for col in ("id", "name", "kind", "country", "ags", "state", "source_url", "geocode_source"):
        assert isinstance(members[col].dtype, pd.StringDtype), col
    for col in ("alliance", "role", "joined_precision", "geocode_precision"):
        assert isinstance(members[col].dtype, pd.CategoricalDtype), col
    assert members["joined"].dtype == "datetime64[ns]"
    assert members["joined_end"].dtype == "datetime64[ns]"
    assert members["geocode_confidence"].dtype == "float64"
    assert (members.geom_type == "Point").all()
    assert members["id"].is_unique


def test_join_dates_keep_their_precision(members: gpd.GeoDataFrame) -> None:
    by_key = members.set_index(["name", "alliance"])
    for row in csv_rows(MEMBERS_CSV):
        got = by_key.loc[(row["name"], row["alliance"])]
        first, precision = parse_joined(row["joined"])
        if first is None:
            assert pd.isna(got["joined"]) and pd.isna(got["joined_precision"]), row
            continue
        assert got["joined"] == pd.Timestamp(first)
        assert got["joined_precision"] == precision
        end = got["joined_end"]
        if precision == DatePrecision.YEAR:
            assert end == pd.Timestamp(first.year, 12, 31)
        elif precision == DatePrecision.MONTH:
            assert end.month == first.month and (end + pd.Timedelta(days=1)).day == 1
        else:
            assert end == got["joined"]


def test_places_frame(shipped_store: Store) -> None:
    places = pa.read_places(shipped_store)
    rows = csv_rows(PLACES_CSV)
    assert places.crs == "EPSG:4326"
    assert len(places) == len(rows) == 22
    assert sorted(places["name"]) == sorted(r["name"] for r in rows)
    assert isinstance(places["category"].dtype, pd.StringDtype)
    assert places["geocode_precision"].cat.ordered
    exact = places[places["geocode_precision"] == "exact"]
    assert len(exact) == sum(1 for r in rows if r["lat"])


def test_loader_opens_a_store_by_path(shipped_store: Store, tmp_path: Path) -> None:
    path = tmp_path / "own.gpkg"
    own = pa.open_shipped_store(path, DATA_DIR)
    own.close()
    by_path = pa.read_memberships(str(path), alliance="international", data_dir=DATA_DIR)
    assert len(by_path) == sum(1 for r in csv_rows(MEMBERS_CSV) if r["alliance"] == "international")


def test_boundaries_and_gazetteer(gazetteer: gpd.GeoDataFrame) -> None:
    states, districts, munis = (
        pa.read_states(DATA_DIR),
        pa.read_districts(DATA_DIR),
        pa.read_municipalities(DATA_DIR),
    )
    assert (len(states), len(districts), len(munis)) == (16, 400, 10_997)
    for frame, digits in ((states, 2), (districts, 5), (munis, 8)):
        assert frame.crs == "EPSG:4326"
        assert frame["ags"].str.len().eq(digits).all()
    rows = csv_rows(GAZETTEER_CSV)
    assert len(gazetteer) == len(rows) - 3  # the three unincorporated areas without coordinates
    assert gazetteer["population"].dtype == "int64"
    assert gazetteer["population"].sum() == sum(int(r["population"]) for r in rows)
    harrislee = gazetteer.set_index("ags").loc["01059120"]
    assert harrislee["postcode"] == "24955" and harrislee["name_short"] == "Harrislee"


def test_members_per_million_matches_a_hand_computation(
    members: gpd.GeoDataFrame, gazetteer: gpd.GeoDataFrame
) -> None:
    counted = Counter(r["state"] for r in csv_rows(MEMBERS_CSV) if r["alliance"] == "buendnis")
    population: dict[str, int] = defaultdict(int)
    for r in csv_rows(GAZETTEER_CSV):
        population[r["state"]] += int(r["population"])
    per_state = pa.members_per_state(members, gazetteer, alliance="buendnis").set_index("state")
    assert len(per_state) == 16
    for state, pop in population.items():
        assert per_state.loc[state, "population"] == pop
        assert per_state.loc[state, "members"] == counted.get(state, 0), state
        assert per_state.loc[state, "members_per_million"] == pytest.approx(counted.get(state, 0) / pop * 1e6)
    assert per_state["members"].sum() == sum(counted.values())


def test_district_members_and_double_counting(members: gpd.GeoDataFrame, gazetteer: gpd.GeoDataFrame) -> None:
    rows = csv_rows(GAZETTEER_CSV)
    tuebingen = sum(int(r["population"]) for r in rows if r["district_ags"] == "08416")
    goettingen_city = next(
        int(r["population"]) for r in rows if r["name_short"] == "Göttingen" and r["district_ags"] == "03159"
    )
    buendnis = members[members["alliance"] == "buendnis"]
    pop = pa.member_population(buendnis, gazetteer)
    assert pop[buendnis["name"] == "Landkreis Tübingen"].item() == tuebingen
    assert pop[buendnis["country"] != "DE"].isna().all()
    ni = buendnis[buendnis["state"] == "Niedersachsen"]
    covered = pa.members_per_state(members, gazetteer).loc["NI", "covered_population"]
    # Göttingen is a member and lies in the member Landkreis Göttingen: the sum counts it twice.
    assert pa.member_population(ni, gazetteer).sum() - covered == goettingen_city


def test_timeline_against_official(members: gpd.GeoDataFrame) -> None:
    versus = pa.dataset_vs_official(members, "buendnis").set_index("as_of")
    buendnis = [r for r in csv_rows(MEMBERS_CSV) if r["alliance"] == "buendnis"]
    by_founding = sum(
        1 for r in buendnis if r["joined"] and r["joined"] <= "2019-06-14" and len(r["joined"]) == 10
    )
    assert versus.loc["2019-06-14", "dataset_surely"] == by_founding
    assert versus.loc["later (undated)", "dataset_surely"] == len(buendnis)
    assert versus.loc["later (undated)", "official"] == 120
    cumulative = pa.cumulative_members(members, "buendnis", until=date(2022, 2, 18))
    assert cumulative.index[-1] == pd.Timestamp(2022, 2, 18)
    assert (cumulative["earliest"] >= cumulative["latest"]).all()
    assert cumulative["latest"].iloc[-1] + cumulative["undated"].iloc[-1] == len(buendnis)


def test_distance_to_nearest_member_is_exact(members: gpd.GeoDataFrame, gazetteer: gpd.GeoDataFrame) -> None:
    buendnis = members[(members["alliance"] == "buendnis") & (members["country"] == "DE")]
    distances = pa.distance_to_nearest_member(gazetteer, buendnis).set_index("ags")
    points = [(p.y, p.x) for p in buendnis.geometry]
    for ags in ("01059120", "16053000", "14626110", "02000000"):  # Harrislee, Jena, Görlitz, Hamburg
        row = distances.loc[ags]
        brute = min(geodesic((row.geometry.y, row.geometry.x), p).meters for p in points)
        assert row["distance_m"] == pytest.approx(brute, abs=0.01), ags
    assert distances.loc["11000000", "distance_m"] == 0  # Berlin is a member
    summary = pa.distance_by_state(distances.reset_index())
    assert summary.loc["BE", "median_km"] == 0 and summary.loc["BE", "share_in_member"] == 1
    assert set(summary.index) == {*gazetteer["state_code"], "DE"}


def test_weighted_quantile() -> None:
    from poi_service.analysis.spatial import weighted_quantile

    values, weights = np.array([10.0, 1.0, 5.0]), np.array([1.0, 1.0, 8.0])
    assert weighted_quantile(values, weights, 0.5) == 5.0
    assert weighted_quantile(values, weights, 0.05) == 1.0
    assert weighted_quantile(values, weights, 1.0) == 10.0


def test_coordinator_network(members: gpd.GeoDataFrame) -> None:
    network = pa.coordinator_network(members)
    coordinators = [
        r for r in csv_rows(MEMBERS_CSV) if r["alliance"] == "buendnis" and r["role"] == "state_coordinator"
    ]
    assert set(network["coordinator"]) == {"Potsdam"}
    assert sorted(network["state_coordinator"]) == sorted(r["name"] for r in coordinators)
    flensburg = network.set_index("state_coordinator").loc["Flensburg"]
    start, end = flensburg.geometry.coords
    assert flensburg["length_km"] == pytest.approx(geodesic(start[::-1], end[::-1]).km, rel=1e-9)
    spokes = pa.nearest_coordinator(members)
    assert len(spokes) == int((members["alliance"] == "buendnis").sum()) > 0
    assert (spokes.loc[spokes["name"] == spokes["coordinator"], "distance_km"] == 0).all()


def test_figures_are_reproducible(members: gpd.GeoDataFrame, tmp_path: Path) -> None:
    from poi_service.analysis import figures

    written = []
    for run in ("a", "b"):
        fig = figures.plot_timeline(pa.cumulative_members(members), pa.BUENDNIS_TIMELINE, "test")
        written.append(figures.save_figure(fig, "timeline", tmp_path / run))
        figures.plt.close(fig)
    for first, second in zip(*written, strict=True):
        assert first.read_bytes() == second.read_bytes(), first.name
    svg = written[0][1].read_text(encoding="utf-8")
    assert "<dc:date>" not in svg


def test_offline_map_loads_nothing_from_the_network(shipped_store: Store) -> None:
    from poi_service.analysis import webmap

    m = webmap.offline_map((54.8, 9.4), 12)
    webmap.add_boundaries(m, DATA_DIR, (9.3, 54.75, 9.5, 54.85))
    webmap.add_points(m, pa.read_places(shipped_store), fields=["category", "source"])
    html = m.get_root().render()
    assert webmap.offline_problems(html) == []
    assert "cdn" not in html.casefold() and "data:text/javascript;base64," in html
    assert "Harrislee" in html and "GeoBasis-DE" in html


def test_readme_example_runs(shipped_store: Store, members: gpd.GeoDataFrame) -> None:
    """The README's analyst snippet, run against the shipped store (the service URL line left out)."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## For analysts", 1)[1]
    code = section.split("```python", 1)[1].split("```", 1)[0]
    assert isinstance(shipped_store, SqliteStore)
    path = str(shipped_store.path)
    lines = [ln for ln in code.splitlines() if "http://" not in ln]
    namespace: dict[str, object] = {}
    exec(compile("\n".join(lines).replace('"var/poi.gpkg"', repr(path)), "README.md", "exec"), namespace)
    per_state = namespace["per_state"]
    assert isinstance(per_state, pd.DataFrame) and len(per_state) == 16
    buendnis = members[(members["alliance"] == "buendnis") & (members["country"] == "DE")]
    assert int(per_state["members"].sum()) == len(buendnis)
