"""Membership over time: the dataset's cumulative members by join date against the official counts.

Join dates are partial (day, month or year) and some are unknown. A member dated '2019' joined somewhere
in 2019: `earliest` counts it from 2019-01-01, `latest` only from 2019-12-31, and the truth lies between.
Undated members are counted apart (`undated`), never guessed into a year.
"""

from __future__ import annotations

from datetime import date

import pandas as pd

from poi_service.analysis.official import BUENDNIS_TIMELINE, OfficialCount, dated_timeline


def cumulative_members(
    memberships: pd.DataFrame, alliance: str = "buendnis", until: date | None = None
) -> pd.DataFrame:
    """Daily cumulative members of one alliance from the first join date to the last period end (or until).

    Columns: earliest (counted from the first day of each known period), latest (from the last day),
    undated (members without a join date, constant); indexed by date.
    """
    m = memberships[memberships["alliance"] == alliance]
    dated = m[m["joined"].notna()]
    undated = int(m["joined"].isna().sum())
    if dated.empty:
        return pd.DataFrame(columns=["earliest", "latest", "undated"], dtype="int64")
    end = max(dated["joined_end"].max(), pd.Timestamp(until)) if until else dated["joined_end"].max()
    days = pd.date_range(dated["joined"].min(), end, freq="D")
    first = dated["joined"].value_counts().reindex(days, fill_value=0).cumsum()
    last = dated["joined_end"].value_counts().reindex(days, fill_value=0).cumsum()
    out = pd.DataFrame({"earliest": first, "latest": last}, index=days).astype("int64")
    out["undated"] = undated
    out.index.name = "date"
    return out


def dataset_vs_official(
    memberships: pd.DataFrame,
    alliance: str = "buendnis",
    timeline: tuple[OfficialCount, ...] = BUENDNIS_TIMELINE,
    today: date | None = None,
) -> pd.DataFrame:
    """For each official count: the dataset members surely joined by then (latest), possibly joined by
    then (earliest), the undated members, and the share of the official count the dataset shows.

    The undated official figure ('later') is compared with every member of the alliance in the dataset.
    `joined` is the council decision; formal acceptance can be later, so `latest` may exceed the
    official figure without either being wrong.
    """
    m = memberships[memberships["alliance"] == alliance]
    rows = []
    for entry in [*dated_timeline(timeline), *(c for c in timeline if c.when is None)]:
        if entry.when is None:
            surely = possibly = len(m)
            label = "later (undated)"
        else:
            when = pd.Timestamp(entry.when)
            surely = int((m["joined_end"] <= when).sum())
            possibly = int((m["joined"] <= when).sum())
            label = entry.when.isoformat() if entry.precision != "month" else entry.when.strftime("%Y-%m")
        rows.append(
            {
                "as_of": label,
                "date": pd.Timestamp(entry.when) if entry.when else pd.NaT,
                "official": entry.count,
                "approximate": entry.approximate,
                "dataset_surely": surely,
                "dataset_possibly": possibly,
                "coverage": surely / entry.count,
                "note": entry.note,
            }
        )
    out = pd.DataFrame(rows)
    out["undated_in_dataset"] = int(m["joined"].isna().sum())
    return out


def join_years(memberships: pd.DataFrame) -> pd.DataFrame:
    """Members per alliance and join year ('unknown' for undated), for a quick table."""
    year = memberships["joined"].dt.year.astype("Int64").astype("string").fillna("unknown")
    return pd.crosstab(year.rename("joined"), memberships["alliance"].rename("alliance"))
