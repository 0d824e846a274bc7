"""Training: ``RunConfig`` (the one description of a run), ``fit``/``Trainer`` (its execution,
with callbacks), checkpoints, ``runs/<name>/`` folders and ``.npz`` model files."""
