"""Choosing what a channel's digest carries: its filters, one story told by several outlets,
and the order of importance."""
