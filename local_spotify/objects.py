"""Spotify Web API JSON objects (playlist, entry, track, episode, paging, errors)
built from replayed content, shaped like Spotify's own responses."""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from functools import lru_cache
from urllib.parse import quote_plus, urlencode

from local_spotify import catalog
from local_spotify.replay import (
    KIND_EPISODE,
    KIND_LOCAL,
    KIND_NULL,
    KIND_POISON,
    KIND_UNAVAILABLE,
    POISON_ADDED_AT_GARBAGE,
    POISON_ADDED_AT_NUMBER,
    POISON_ALBUM_NOT_OBJECT,
    POISON_ARTIST_NOT_OBJECT,
    POISON_ENTRY_NOT_OBJECT,
    POISON_ITEM_NOT_OBJECT,
    Entry,
    PlaylistContent,
)

OPEN_URL = "https://open.spotify.com"
ENTRY_KEYS = ("item", "track", "both")  # where an entry holds its track: 2026 API, older API, both
SPOTIFY_USER = "spotify"


@dataclass(frozen=True)
class RenderOptions:
    api_url: str  # ends in "/v1/"; hrefs and paging urls point here
    development_mode: bool = True  # 2026 development-mode apps get no popularity
    entry_key: str = "item"
    market: str | None = None  # when given, tracks carry is_playable


def error_body(status: int, message: str) -> dict:
    return {"error": {"status": status, "message": message}}


def iso_day(day: date) -> str:
    return f"{day.isoformat()}T00:00:00Z"


def _link(api_url: str, kind: str, object_id: str | None) -> dict:
    if object_id is None:
        return {"external_urls": {}, "href": None, "id": None, "uri": None}
    return {
        "external_urls": {"spotify": f"{OPEN_URL}/{kind}/{object_id}"},
        "href": f"{api_url}{kind}s/{object_id}",
        "id": object_id,
        "uri": f"spotify:{kind}:{object_id}",
    }


def user_object(api_url: str, user_id: str = SPOTIFY_USER, display_name: str | None = "Spotify") -> dict:
    return {
        "display_name": display_name,
        "external_urls": {"spotify": f"{OPEN_URL}/user/{user_id}"},
        "href": f"{api_url}users/{user_id}",
        "id": user_id,
        "type": "user",
        "uri": f"spotify:user:{user_id}",
    }


def artist_object(api_url: str, artist_id: str | None, name: str) -> dict:
    return {**_link(api_url, "artist", artist_id), "name": name, "type": "artist"}


def track_object(track: catalog.ChartTrack, options: RenderOptions, playable: bool = True) -> dict:
    # Position and popularity change daily and are not part of the cached base.
    identity = replace(track, position=0, popularity=None)
    obj = dict(_track_base(identity, options.api_url))  # shallow copy: the cached base stays intact
    if not options.development_mode:
        obj["popularity"] = track.popularity if track.popularity is not None else 0
    if options.market is not None:
        obj["is_playable"] = playable
    if not playable:
        obj["restrictions"] = {"reason": "market"}
    return obj


@lru_cache(maxsize=65536)
def _track_base(track: catalog.ChartTrack, api_url: str) -> dict:
    """The parts of a track object that depend only on the track (its derived ids
    cost a hash each, so they are computed once per track). Never mutate the result."""
    artists = [artist_object(api_url, i, n) for i, n in zip(track.artist_ids, track.artists)]
    album = {
        "album_type": track.album_type,
        "artists": artists[:1],
        **_link(api_url, "album", track.album_id),
        "images": [{"height": 640, "url": track.cover_url, "width": 640}] if track.cover_url else [],
        "name": track.album_name,
        "release_date": track.release_date,
        "release_date_precision": track.release_date_precision,
        "total_tracks": track.total_tracks,
        "type": "album",
    }
    return {
        "album": album,
        "artists": artists,
        "disc_number": 1,
        "duration_ms": track.duration_ms,
        "episode": False,
        "explicit": track.explicit,
        "external_ids": {"isrc": track.isrc},
        **_link(api_url, "track", track.track_id),
        "is_local": False,
        "name": track.song,
        "preview_url": None,
        "track": True,
        "track_number": 1,
        "type": "track",
    }


def local_file_object(track: catalog.ChartTrack, options: RenderOptions) -> dict:
    """A local file of the chart track it replaces: no ids, a ``spotify:local:`` uri."""
    artist = ", ".join(track.artists)
    # Spotify's local-file uris are spotify:local:artist:album:title:seconds, '+' for spaces.
    parts = (quote_plus(p) for p in (artist, track.album_name, track.song))
    uri = ":".join(["spotify", "local", *parts, str(track.duration_ms // 1000)])
    obj = {
        "album": {
            "album_type": None,
            "artists": [],
            "available_markets": [],
            "external_urls": {},
            "href": None,
            "id": None,
            "images": [],
            "name": track.album_name,
            "release_date": None,
            "release_date_precision": None,
            "type": "album",
            "uri": None,
        },
        "artists": [{"external_urls": {}, "href": None, "id": None, "name": a, "type": "artist", "uri": None} for a in track.artists],
        "available_markets": [],
        "disc_number": 0,
        "duration_ms": track.duration_ms,
        "explicit": False,
        "external_ids": {},
        "external_urls": {},
        "href": None,
        "id": None,
        "is_local": True,
        "name": track.song,
        "preview_url": None,
        "track_number": 0,
        "type": "track",
        "uri": uri,
    }
    if not options.development_mode:
        obj["popularity"] = 0  # Spotify's value for local files
    return obj


def episode_object(playlist_id: str, position: int, added_on: date, options: RenderOptions) -> dict:
    """A podcast episode (deterministic per playlist and position)."""
    episode_id = catalog.spotify_id("episode", playlist_id, str(position))
    show_id = catalog.spotify_id("show", "local-spotify-chart-talk")
    obj = {
        "description": "A talk about this week's charts (synthetic episode).",
        "duration_ms": 1_800_000,
        "episode": True,
        "explicit": False,
        **_link(options.api_url, "episode", episode_id),
        "images": [],
        "is_externally_hosted": False,
        "language": "en",
        "languages": ["en"],
        "name": f"Chart Talk: position {position}",
        "release_date": added_on.isoformat(),
        "release_date_precision": "day",
        "show": {
            "description": "Synthetic podcast of the local Spotify-compatible server.",
            **_link(options.api_url, "show", show_id),
            "media_type": "audio",
            "name": "Chart Talk",
            "publisher": "Local Spotify",
            "total_episodes": 100,
            "type": "show",
        },
        "track": False,
        "type": "episode",
    }
    if options.market is not None:
        obj["is_playable"] = True
    return obj


def entry_object(content: PlaylistContent, entry: Entry, options: RenderOptions) -> dict | str:
    if entry.kind == KIND_NULL:
        item = None
    elif entry.kind == KIND_EPISODE:
        item = episode_object(content.playlist.id, entry.position, entry.added_on, options)
    elif entry.kind == KIND_LOCAL:
        item = local_file_object(entry.track, options)
    else:
        item = track_object(entry.track, options, playable=entry.kind != KIND_UNAVAILABLE)
    obj = {
        "added_at": iso_day(entry.added_on),
        "added_by": user_object(options.api_url, SPOTIFY_USER, None),
        "is_local": entry.kind == KIND_LOCAL,
        "primary_color": None,
        "video_thumbnail": {"url": None},
    }
    if options.entry_key in ("item", "both"):
        obj["item"] = item
    if options.entry_key in ("track", "both"):
        obj["track"] = item
    if entry.kind.startswith(f"{KIND_POISON}:"):
        return poisoned_entry(obj, entry.kind.split(":", 1)[1])
    return obj


def poisoned_entry(entry: dict, how: str):
    """A chart entry broken the way ``how`` says (see replay.POISONS); copies, never
    changes, the cached parts it touches."""
    if how == POISON_ENTRY_NOT_OBJECT:
        return "spotify:playlist-entry:unreadable"
    if how == POISON_ADDED_AT_GARBAGE:
        return {**entry, "added_at": "garbage"}
    if how == POISON_ADDED_AT_NUMBER:
        return {**entry, "added_at": 1_700_000_000}
    poisoned = dict(entry)
    for key in ("item", "track"):
        item = entry.get(key)
        if item is None:
            continue
        if how == POISON_ITEM_NOT_OBJECT:
            poisoned[key] = item.get("uri") or "spotify:track:unreadable"
        elif how == POISON_ARTIST_NOT_OBJECT:
            artists = item.get("artists") or []
            poisoned[key] = {**item, "artists": [a.get("name") for a in artists[:1]] + artists[1:]}
        elif how == POISON_ALBUM_NOT_OBJECT:
            poisoned[key] = {**item, "album": [item.get("album")]}
    return poisoned


def items_url(api_url: str, playlist_id: str, offset: int, limit: int, extra_params: list[tuple[str, str]]) -> str:
    query = urlencode([("offset", offset), ("limit", limit), *extra_params], safe=",()!.")
    return f"{api_url}playlists/{playlist_id}/items?{query}"


def paging_object(
    content: PlaylistContent, offset: int, limit: int, options: RenderOptions, extra_params: list[tuple[str, str]]
) -> dict:
    """Spotify's paging object over the playlist's entries."""
    total = len(content.entries)
    page = content.entries[offset : offset + limit]
    playlist_id = content.playlist.id
    return {
        "href": items_url(options.api_url, playlist_id, offset, limit, extra_params),
        "items": [entry_object(content, e, options) for e in page],
        "limit": limit,
        "next": _next_url(content, offset, limit, options, extra_params),
        "offset": offset,
        "previous": items_url(options.api_url, playlist_id, max(0, offset - limit), limit, extra_params) if offset > 0 else None,
        "total": total,
    }


def _next_url(content: PlaylistContent, offset: int, limit: int, options: RenderOptions,
              extra_params: list[tuple[str, str]]) -> str | None:
    """The next page's URL; after the last page none, or the first page's when ``next`` loops."""
    playlist_id, total = content.playlist.id, len(content.entries)
    if offset + limit < total:
        return items_url(options.api_url, playlist_id, offset + limit, limit, extra_params)
    return items_url(options.api_url, playlist_id, 0, limit, extra_params) if content.loop_next else None


def playlist_object(content: PlaylistContent, options: RenderOptions, extra_params: list[tuple[str, str]], page_limit: int) -> dict:
    playlist = content.playlist
    first_page = paging_object(content, 0, page_limit, options, extra_params)
    return {
        "collaborative": False,
        "description": playlist.description,
        **_link(options.api_url, "playlist", playlist.id),
        "images": [],
        "items": first_page,
        "name": playlist.name,
        "owner": user_object(options.api_url),
        "primary_color": None,
        "public": True,
        "snapshot_id": content.snapshot_id,
        "tracks": first_page,  # the same paging object, for clients older than 2026
        "type": "playlist",
    }
