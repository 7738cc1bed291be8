"""Trace exporters: JSON (stable schema), a self-contained HTML page, and Weights & Biases (lazy)."""
