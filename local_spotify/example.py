"""How to point the real spotipy client at the local server (the producer does the same
with SPOTIFY_API_URL / SPOTIFY_TOKEN_URL). Run it: ``python -m local_spotify.example``."""
from __future__ import annotations

import requests
import spotipy
from spotipy.cache_handler import MemoryCacheHandler
from spotipy.oauth2 import SpotifyClientCredentials

from local_spotify import catalog
from local_spotify.server import LocalSpotifyServer


def spotipy_client(
    api_url: str,
    token_url: str,
    client_id: str,
    client_secret: str,
    *,
    retries: int = 3,
    retry_statuses: tuple[int, ...] = (500, 502, 503, 504),
    timeout: float = 5,
) -> spotipy.Spotify:
    """A spotipy client for ``api_url`` (ending in ``/v1/``) and ``token_url``.

    - tokens are cached in memory (the default ``.cache`` file cannot be written in Lambda);
    - 429 is left out of the retried statuses: spotipy's urllib3 retry would sleep the
      whole ``Retry-After``; without it spotipy raises ``SpotifyException`` with
      ``http_status=429`` and the response ``headers``;
    - ``retries=0`` gives spotipy a plain requests session: no urllib3 retries at all, so
      every status reaches the caller as itself (spotipy reports exhausted urllib3
      retries as a 429 whatever the status was).
    """
    auth = SpotifyClientCredentials(
        client_id=client_id,
        client_secret=client_secret,
        cache_handler=MemoryCacheHandler(),
        requests_timeout=timeout,
    )
    auth.OAUTH_TOKEN_URL = token_url  # spotipy reads self.OAUTH_TOKEN_URL: an instance attribute overrides it
    client = spotipy.Spotify(
        auth_manager=auth,
        requests_session=requests.Session() if retries == 0 else True,
        retries=retries,
        status_retries=retries,
        status_forcelist=retry_statuses,
        requests_timeout=timeout,
    )
    client.prefix = api_url  # spotipy's API base
    return client


def main() -> None:
    with LocalSpotifyServer() as server:
        sp = spotipy_client(server.api_url, server.token_url, "local-client-id", "local-client-secret")
        global_top = catalog.MARKETS_BY_LABEL["global"].playlist_id
        head = sp.playlist(global_top, fields="snapshot_id,name")
        print(f"{head['name']} on {server.control.date()}: snapshot {head['snapshot_id']}")
        page = sp.playlist_items(global_top, limit=5, fields="items(added_at,item(name,artists(name))),total")
        for position, entry in enumerate(page["items"], start=1):
            artists = ", ".join(a["name"] for a in entry["item"]["artists"])
            print(f"  {position}. {entry['item']['name']} - {artists} (since {entry['added_at']})")
        server.control.advance(1)
        print(f"next day: snapshot {sp.playlist(global_top, fields='snapshot_id')['snapshot_id']}")


if __name__ == "__main__":
    main()
