"""Tensor operations, one module per concept; :mod:`ember.tensor_methods` makes them ``Tensor`` methods."""
