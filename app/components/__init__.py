"""Param-driven Panel components the dashboards compose."""
