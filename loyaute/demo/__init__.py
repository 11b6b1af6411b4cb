"""The synthetic Département: generator (``department``) and end-to-end run (``runner``)."""
