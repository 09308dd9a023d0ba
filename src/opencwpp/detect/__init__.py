"""Threat detection over CloudTrail: ingestion into the lake, Sigma rules, alerts as findings."""
