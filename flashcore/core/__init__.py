"""The pure domain: no I/O, no database, no UI. Time is always an argument."""
