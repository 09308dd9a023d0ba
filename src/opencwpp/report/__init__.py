"""Reports: one set of findings and run facts rendered as console tables, JSON, CSV or HTML.

A reporter only reads the findings it is given; it never queries a lake or a cloud.
"""

from opencwpp.report.model import ReportData

__all__ = ["ReportData"]
