"""Radiotherapy and clinical rules: dose, dosimetry, RECIST, CTCAE, histology, endpoints."""
