"""``rtoutcomes serve``: a local web app over a registry (pages, forms, studies, history).

Thin over the library: pages read the registry through SQL and the clinical layer's functions,
studies run through ``rtoutcomes.study``; see ``app.py`` for sessions and headers,
``pages.py`` for what every page handler uses (log-in, roles, CSRF).
Optional dependencies (``pip install 'rtoutcomes[web]'``): starlette, jinja2, uvicorn,
python-multipart.
"""

from rtoutcomes.web.app import WebConfig, create_app

__all__ = ["WebConfig", "create_app"]
