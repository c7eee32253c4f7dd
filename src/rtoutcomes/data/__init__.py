"""Data files shipped with rtoutcomes (``demo/``: the SYNTHETIC demo registry's CSV files)."""
