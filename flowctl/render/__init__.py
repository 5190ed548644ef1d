"""Renderers: data in, text out. Only renderers and the CLI know about output formats."""
