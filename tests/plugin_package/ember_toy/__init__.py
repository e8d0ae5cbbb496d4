"""ember-toy: a third-party backend plugin serving device type ``toy`` with NumPy behind the primitives."""
