"""Lifecycle stages, transitions (each one an event) and the one lead definition.

``stages`` has the stage choices, ``definition`` the lead definition setting,
``transitions`` ``change_stage`` and ``qualify``.
"""
