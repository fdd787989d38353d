"""Evaluation: gold annotations, converters from public datasets, matching, metrics, runs.

Pure parts (gold, matching, metrics) never import the client.
"""
