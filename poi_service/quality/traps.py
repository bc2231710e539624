"""Known traps of the alliance data, from data/alliance/NOTES.md ('Traps', 'Not members').

Keys are comparison keys (casefolded, accents and ß folded, see checks.key).
"""

from __future__ import annotations

# Names that are misspellings of a member's real name.
MISSPELLINGS: dict[str, str] = {
    "rotenburg am neckar": "Rottenburg am Neckar (Baden-Württemberg); no source names a Rotenburg as a Safe Harbour",
}

# Municipalities that must not be listed as Bündnis members: their council rejected joining, or only a
# motion or a postponed vote was found.
_REJECTED = "the council rejected or did not pass joining the Bündnis (NOTES.md, 'Not members')"
_MOTION = "only a motion or a postponed vote was found, no Bündnis membership (NOTES.md, 'Not members')"
NOT_BUENDNIS: dict[str, str] = {
    "aschaffenburg": "the Bündnis membership was rejected; Aschaffenburg has only declared (NOTES.md)",
    "celle": _REJECTED,
    "ebersberg": _REJECTED,
    "landkreis ebersberg": _REJECTED,
    "kitzingen": _REJECTED,
    "landshut": _REJECTED,
    "steinburg": _REJECTED,
    "kreis steinburg": _REJECTED,
    "dresden": _REJECTED,
    "frankfurt (oder)": _MOTION,
    "hanau": _MOTION,
    "schorndorf": _MOTION,
    "rheine": _MOTION,
    "kreis unna": _MOTION,
    "saalfeld": _MOTION,
    "saalfeld/saale": _MOTION,
    "dormagen": _MOTION + "; Dormagen is an IASH member",
    "hamburg": "declared a Sicherer Hafen (2018-09-26) but not a Bündnis founder; no membership source (NOTES.md)",
}

# Listed, but disputed by another source: kept, with a warning.
DISPUTED: dict[str, str] = {
    "erfurt": "listed by Seebrücke, disputed by the Thuringia refugee council (solidarity only)",
}
