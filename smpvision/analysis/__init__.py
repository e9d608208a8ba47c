"""Measurements from a segmented photo: zones, density, scale, colour, scars, quality (no torch)."""
