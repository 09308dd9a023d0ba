"""Demo support: an in-process AWS emulator and a small, realistic estate to scan."""
