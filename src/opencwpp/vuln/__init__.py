"""Vulnerability management: package inventories, OSV advisories, matching, SBOMs."""
