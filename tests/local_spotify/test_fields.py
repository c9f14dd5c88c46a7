"""The generic ``fields=`` filter (Spotify's syntax) over plain JSON values."""
import pytest

from local_spotify.fields import FieldsSyntaxError, filter_fields, parse_fields

PAGE = {
    "href": "h",
    "items": [
        {
            "added_at": "2024-01-01T00:00:00Z",
            "added_by": {"id": "spotify", "type": "user"},
            "is_local": False,
            "item": {
                "id": "t1",
                "name": "Song",
                "popularity": 3,
                "artists": [{"id": "a1", "name": "A", "type": "artist"}, {"id": "a2", "name": "B", "type": "artist"}],
                "album": {"id": "al", "name": "Album", "images": [{"url": "u"}]},
            },
        },
        {"added_at": "2024-01-02T00:00:00Z", "added_by": {"id": "x"}, "is_local": False, "item": None},
    ],
    "limit": 50,
    "next": None,
    "offset": 0,
    "total": 2,
}


def test_empty_or_missing_fields_keep_everything():
    assert parse_fields("") is None
    assert parse_fields(None) is None
    assert filter_fields(PAGE, "") is PAGE


def test_top_level_names():
    assert filter_fields(PAGE, "next,total") == {"next": None, "total": 2}


def test_nested_parentheses_apply_to_every_list_element_and_leave_null_items():
    result = filter_fields(PAGE, "items(added_at,is_local,item(id,name,artists(id,name))),next,total")
    assert result == {
        "items": [
            {
                "added_at": "2024-01-01T00:00:00Z",
                "is_local": False,
                "item": {"id": "t1", "name": "Song", "artists": [{"id": "a1", "name": "A"}, {"id": "a2", "name": "B"}]},
            },
            {"added_at": "2024-01-02T00:00:00Z", "is_local": False, "item": None},
        ],
        "next": None,
        "total": 2,
    }


def test_dot_selects_inside_an_object():
    result = filter_fields(PAGE, "items(added_by.id)")
    assert result == {"items": [{"added_by": {"id": "spotify"}}, {"added_by": {"id": "x"}}]}
    assert filter_fields(PAGE, "items.item.album.name")["items"][0] == {"item": {"album": {"name": "Album"}}}


def test_exclusion_keeps_the_rest():
    result = filter_fields(PAGE, "items(item(album(!images)))")
    assert result["items"][0]["item"]["album"] == {"id": "al", "name": "Album"}
    assert filter_fields({"a": 1, "b": 2, "c": 3}, "!b") == {"a": 1, "c": 3}


def test_same_field_selected_twice_merges():
    result = filter_fields(PAGE, "items(item(id)),items(item(name))")
    assert result["items"][0]["item"] == {"id": "t1", "name": "Song"}
    # Selecting the whole field wins over a part of it.
    assert filter_fields(PAGE, "items(item(id)),items")["items"] == PAGE["items"]


def test_missing_keys_are_absent_and_order_follows_the_value():
    assert filter_fields({"b": 1, "a": 2}, "a,b,zzz") == {"b": 1, "a": 2}
    assert list(filter_fields({"b": 1, "a": 2}, "a,b")) == ["b", "a"]


def test_whitespace_around_names_is_ignored():
    assert filter_fields(PAGE, " next , total ") == {"next": None, "total": 2}


@pytest.mark.parametrize("bad", ["items(", "items)", "a,,b", "a,", "(a)", "!a(b)", "a(b))", "a.", "!"])
def test_malformed_expressions_raise(bad):
    with pytest.raises(FieldsSyntaxError):
        parse_fields(bad)
