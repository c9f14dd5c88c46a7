"""Headless Chromium for the dashboard tests: it lives in localdev/browser.py (the dashboard
benchmark takes pictures with it too); this module keeps the tests' name for it."""
from localdev.browser import BrowserError, RenderedPage, chromium, render, screenshot  # noqa: F401
