"""Every matplotlib figure: training curves, decision boundaries, gradient flow and the
experiments' figures. Imported only by the faces (CLI, runs, report), never by the engine.

``canvas`` holds what every figure shares (``DPI``, the colour maps, ``floats`` and
``positive`` for JSON numbers, ``new_figure``, ``tidy``, ``save``); ``plots`` the run's
history, 1-D fit and confusion matrix; ``boundary`` decision boundaries and probability
maps; ``flow_plot`` the gradient-flow panels; ``figures`` a run's set of figures.
"""
