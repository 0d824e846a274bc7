"""The live simulator: ``server`` (FastAPI app), ``session`` (one run per socket) with
``building`` (config → trainer and probe), ``handlers`` (one per client message), ``ticks``
(the training loop) and ``snapshot`` (frames and ``state``); ``protocol`` (the JSON messages),
``frames`` (the binary frames), ``limits``, ``presets`` and ``static/`` (the page).

``deltaflow serve`` starts it; ``deltaflow.web.server.create_app`` builds the app.
"""
