"""``ember.distributed.elastic.multiprocessing``: its :mod:`~ember.distributed.elastic.multiprocessing.errors`."""
