"""Validation in four tiers: tier 1 runs inline on every tick batch; tiers 2-4 per symbol-day."""
