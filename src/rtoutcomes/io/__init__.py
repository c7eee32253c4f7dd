"""Input and output: CSV, Excel and DICOM RT files in and out."""
