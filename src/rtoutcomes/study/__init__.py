"""The study file: one YAML file wired from registry or analysis table to report."""
