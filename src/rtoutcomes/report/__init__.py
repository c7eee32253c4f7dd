"""Publication: tables, figures and their renderers (HTML, Word, Excel, CSV, JSON)."""
