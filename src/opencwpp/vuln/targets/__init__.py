"""Scan targets: directories, image tarballs (docker save, OCI layout), zips, SBOM files."""
