"""Azure Activity Log (and resource log) ingestion and detections, apart from CloudTrail's."""
