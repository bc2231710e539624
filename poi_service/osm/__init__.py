"""OpenStreetMap extracts: places, addresses and streets, change files and tiles."""
