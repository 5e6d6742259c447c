"""Training and evaluation of the learned models (never imported by the app or the engine)."""
