"""Integrations shipped with PlantPulse: one package per domain (see DESIGN.md section 3)."""
