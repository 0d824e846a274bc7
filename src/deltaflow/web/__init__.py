"""The live simulator: ``server`` (FastAPI app), ``session`` (one run per socket),
``protocol`` (messages and binary frames), ``presets``, ``limits`` and ``static/`` (the page).

``deltaflow serve`` starts it; ``deltaflow.web.server.create_app`` builds the app.
"""
