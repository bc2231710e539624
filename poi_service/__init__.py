"""poi-service: a geospatial points-of-interest directory with a nearby/within-area API and maps."""

__version__ = "0.1.0"
