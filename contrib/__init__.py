"""Models, datasets, data loading, the training loop and the command line."""
