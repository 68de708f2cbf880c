"""Locating each band inside its row window and integrating its volume above background.

SKELETON: owner fills this in.
"""
