"""SBOMs in (CycloneDX 1.5/1.6 JSON, SPDX 2.3 JSON) and out."""
