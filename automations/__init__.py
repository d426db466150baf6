"""Automations engine: triggers, conditions, actions, scripts, traces and blueprints.

Built in the automations issue; the package exists so the layout of DESIGN.md section 1 holds.
"""
