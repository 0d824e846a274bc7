"""Every matplotlib figure: training curves, decision boundaries, gradient flow and the
experiments' figures. Imported only by the faces (CLI, runs, report), never by the engine."""
