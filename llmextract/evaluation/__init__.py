"""Evaluation: gold annotations, converters from public datasets, matching, metrics, runs.

``run`` runs or reads predictions and streams them through ``scoring``; ``record`` is the run
record (its types, written and read there alone); ``compare`` and ``sweep`` are the
comparison of two records and the run of one eval per prompt version; ``html`` renders
records. Pure parts (gold, matching, metrics) never import the client.
"""
