"""The user at the browser, for the ``spotify-charts auth`` tests (no real browser):
``python spotify_user.py AUTHORIZE_URL REPORT.json``.

The command's ``webbrowser.open`` starts it (``BROWSER`` names a launcher script that runs
it in the background, as a browser launcher returns at once). Like a browser, it loads the
authorize page, follows its redirect to the command's local callback, and reads the page
the command shows; it writes what it saw to REPORT.json for the test.
"""
from __future__ import annotations

import json
import sys
import urllib.error
import urllib.request


class _Stop(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # each hop is looked at, then followed by hand


def get(url: str) -> tuple[int, dict, str]:
    opener = urllib.request.build_opener(_Stop)
    try:
        with opener.open(url, timeout=10) as response:
            return response.status, dict(response.headers), response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read().decode("utf-8", "replace")


def main(authorize_url: str, report_path: str) -> None:
    seen: dict = {"authorize_url": authorize_url}
    try:
        status, headers, body = get(authorize_url)
        seen.update(authorize_status=status, authorize_body=body, redirect=headers.get("Location"))
        if status == 302:  # Spotify sends the browser back to the app's redirect URI
            status, _, page = get(headers["Location"])
            seen.update(callback_status=status, callback_page=page)
    except Exception as error:  # noqa: BLE001 - the test reads what went wrong
        seen["failure"] = f"{type(error).__name__}: {error}"
    with open(report_path, "w") as report:
        json.dump(seen, report)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
