"""``ember.optim``: optimizers and learning-rate schedulers (to be filled)."""
