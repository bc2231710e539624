"""Memberships joined to the Destatis population (31.12.2021) by municipality key (AGS).

A municipality member counts the population of its 8-digit AGS; a district member (Landkreis, Kreis,
Region) the sum of the municipalities whose AGS starts with its 5-digit key. Summing member populations
therefore counts some residents twice: Göttingen lies in the member Landkreis Göttingen, and both are
Bündnis members. `covered_population` avoids that by counting each municipality once (the union of the
member municipalities and every municipality of a member district).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

PER = 1_000_000


def state_population(gazetteer: pd.DataFrame) -> pd.DataFrame:
    """Population and municipality count per state, indexed by state_code (16 rows, Destatis order)."""
    g = gazetteer.groupby("state_code", sort=False, observed=True)
    out = pd.DataFrame(
        {
            "state_ags": g["state_ags"].first(),
            "state": g["state"].first(),
            "population": g["population"].sum().astype("int64"),
            "municipalities": g.size().astype("int64"),
        }
    )
    return out.sort_values("state_ags")


def _district_population(gazetteer: pd.DataFrame) -> pd.Series:
    return gazetteer.groupby("district_ags", observed=True)["population"].sum()


def member_population(memberships: pd.DataFrame, gazetteer: pd.DataFrame) -> pd.Series:
    """Population of each member body (float, NaN abroad or without a known AGS); see the module note on
    double counting. A Samtgemeinde stored at its namesake member gets that member's population only."""
    by_ags = gazetteer.set_index("ags")["population"]
    by_district = _district_population(gazetteer)
    ags = memberships["ags"].astype("string")
    muni = ags.map(by_ags).where(ags.str.len() == 8)
    district = ags.map(by_district).where(ags.str.len() == 5)
    german = memberships["country"] == "DE"
    return muni.fillna(district).astype("float64").where(german).rename("population")


def state_code_of(memberships: pd.DataFrame, gazetteer: pd.DataFrame) -> pd.Series:
    """The state code of each German membership: from its AGS prefix, else from its state name."""
    by_ags = gazetteer.drop_duplicates("state_ags").set_index("state_ags")["state_code"]
    by_name = gazetteer.drop_duplicates("state").set_index("state")["state_code"]
    ags = memberships["ags"].astype("string")
    from_ags = ags.str.slice(0, 2).map(by_ags)
    from_name = memberships["state"].astype("string").map(by_name)
    german = memberships["country"] == "DE"
    return from_ags.fillna(from_name).where(german).astype("string").rename("state_code")


def covered_ags(memberships: pd.DataFrame, gazetteer: pd.DataFrame) -> set[str]:
    """AGS of every municipality that is a member or lies in a member district (each counted once)."""
    ags = memberships.loc[memberships["country"] == "DE", "ags"].dropna().astype(str)
    munis = {a for a in ags if len(a) == 8}
    districts = {a for a in ags if len(a) == 5}
    in_district = gazetteer.loc[gazetteer["district_ags"].isin(districts), "ags"].astype(str)
    return munis | set(in_district)


def members_per_state(
    memberships: pd.DataFrame, gazetteer: pd.DataFrame, alliance: str | None = "buendnis"
) -> pd.DataFrame:
    """Members per state and per 1M inhabitants, indexed by state_code (all 16 states, zeros included).

    Columns: state, population, members, municipality_members, district_members, members_per_million,
    covered_population (residents of member municipalities and member districts, each once) and
    covered_share (of the state's population).
    """
    m = memberships[memberships["country"] == "DE"]
    if alliance is not None:
        m = m[m["alliance"] == alliance]
    codes = state_code_of(m, gazetteer)
    level = np.where(m["ags"].astype("string").str.len() == 5, "district", "municipality")
    counts = pd.crosstab(codes, level).reindex(columns=["municipality", "district"], fill_value=0)
    out = state_population(gazetteer)[["state", "population"]].copy()
    out["municipality_members"] = counts["municipality"].reindex(out.index, fill_value=0).astype("int64")
    out["district_members"] = counts["district"].reindex(out.index, fill_value=0).astype("int64")
    out["members"] = out["municipality_members"] + out["district_members"]
    out["members_per_million"] = out["members"] / out["population"] * PER
    covered = gazetteer[gazetteer["ags"].isin(covered_ags(m, gazetteer))]
    out["covered_population"] = (
        covered.groupby("state_code", observed=True)["population"].sum().reindex(out.index, fill_value=0)
    ).astype("int64")
    out["covered_share"] = out["covered_population"] / out["population"]
    cols = [
        "state",
        "population",
        "members",
        "municipality_members",
        "district_members",
        "members_per_million",
        "covered_population",
        "covered_share",
    ]
    return out[cols]


def with_state_figures(states: gpd.GeoDataFrame, per_state: pd.DataFrame) -> gpd.GeoDataFrame:
    """The state polygons (read_states) joined with members_per_state on state_code."""
    joined = states.merge(
        per_state.drop(columns=["state"]), left_on="state_code", right_index=True, how="left"
    )
    return gpd.GeoDataFrame(joined, geometry="geometry", crs=states.crs)
