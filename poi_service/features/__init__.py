"""Records as GeoJSON features, as dicts and as cached JSON bytes (no web framework here)."""
