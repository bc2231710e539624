"""Seed loading of the shipped data, file import and export, and the field rules they share."""
