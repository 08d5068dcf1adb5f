"""Stands for the dataclasses backport (for Python 3.6), which old requirements still pin."""

print("the backported dataclasses.py runs")
