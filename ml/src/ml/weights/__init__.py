"""Model cards and weights: the registry of the active model, weights files, published checkpoints."""
