"""Benchmarks of wagtail-leadscore (not tests): see README.md in this folder."""
