"""OSV advisories: reading records, importing them into the lake, evaluating their ranges."""
