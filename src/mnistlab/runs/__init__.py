"""Results folders: the run-folder layout and the records every folder keeps."""

from ._files import csv_bytes, device_info, finite, now, versions, write_json

__all__ = ["csv_bytes", "device_info", "finite", "now", "versions", "write_json"]
