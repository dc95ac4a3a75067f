"""``ResourceStore``: insertion order, cursor pages in both orders, filters, deletes (and compaction)."""

from __future__ import annotations

from typing import Any, Literal

from hypothesis import given, settings
from hypothesis import strategies as st

from mockserver.state.store import Page, ResourceStore


def item(ident: str, **fields: Any) -> dict[str, Any]:
    return {"id": ident, **fields}


def filled(count: int) -> ResourceStore:
    store = ResourceStore()
    for index in range(count):
        store.add(item(f"x{index}", even=index % 2 == 0))
    return store


def ids(page: Page) -> list[str]:
    return [entry["id"] for entry in page.data]


def test_add_get_contains_len_iter() -> None:
    store = filled(3)
    assert len(store) == 3
    assert "x1" in store
    assert "nope" not in store
    assert store.get("x2") == {"id": "x2", "even": True}
    assert store.get("nope") is None
    assert [entry["id"] for entry in store] == ["x0", "x1", "x2"]


def test_pages_walk_both_orders_with_exact_has_more() -> None:
    store = filled(5)
    first = store.page(after=None, limit=2, order="asc")
    assert ids(first) == ["x0", "x1"]
    assert first.has_more
    last = store.page(after="x2", limit=2, order="asc")
    assert ids(last) == ["x3", "x4"]
    assert not last.has_more
    newest = store.page(after=None, limit=5, order="desc")
    assert ids(newest) == ["x4", "x3", "x2", "x1", "x0"]
    assert not newest.has_more
    assert ids(store.page(after="x3", limit=10, order="desc")) == ["x2", "x1", "x0"]


def test_after_the_last_item_is_an_empty_final_page() -> None:
    store = filled(3)
    assert store.page(after="x2", limit=5, order="asc") == Page([], False)
    assert store.page(after="x0", limit=5, order="desc") == Page([], False)


def test_unknown_or_deleted_cursor_gives_an_empty_final_page() -> None:
    store = filled(3)
    assert store.page(after="missing", limit=5, order="asc") == Page([], False)
    store.delete("x1")
    assert store.page(after="x1", limit=5, order="asc") == Page([], False)


def test_where_filters_and_cursor_need_not_match_the_filter() -> None:
    store = filled(7)
    evens = store.page(after=None, limit=2, order="asc", where=lambda entry: entry["even"])
    assert ids(evens) == ["x0", "x2"]
    assert evens.has_more
    after_odd = store.page(after="x3", limit=5, order="asc", where=lambda entry: entry["even"])
    assert ids(after_odd) == ["x4", "x6"]
    assert not after_odd.has_more


def test_has_more_is_false_when_only_unmatched_items_follow() -> None:
    store = filled(4)
    page = store.page(after=None, limit=2, order="asc", where=lambda entry: entry["even"])
    assert ids(page) == ["x0", "x2"]
    assert not page.has_more


def test_replacing_an_item_keeps_its_position() -> None:
    store = filled(3)
    store.add(item("x0", even=False, replaced=True))
    assert ids(store.page(after=None, limit=5, order="asc")) == ["x0", "x1", "x2"]
    assert store.get("x0") == {"id": "x0", "even": False, "replaced": True}
    assert len(store) == 3


def test_delete_returns_the_item_once() -> None:
    store = filled(2)
    assert store.delete("x0") == {"id": "x0", "even": True}
    assert store.delete("x0") is None
    assert ids(store.page(after=None, limit=5, order="asc")) == ["x1"]


def test_many_deletes_compact_without_changing_pages() -> None:
    store = filled(300)
    for index in range(0, 290):
        store.delete(f"x{index}")
    assert len(store) == 10
    assert ids(store.page(after=None, limit=3, order="asc")) == ["x290", "x291", "x292"]
    assert ids(store.page(after="x295", limit=3, order="desc")) == ["x294", "x293", "x292"]
    store.add(item("new"))
    assert ids(store.page(after="x299", limit=3, order="asc")) == ["new"]


def test_clear_empties_everything() -> None:
    store = filled(4)
    store.clear()
    assert len(store) == 0
    assert store.page(after=None, limit=5, order="asc") == Page([], False)
    store.add(item("again"))
    assert ids(store.page(after=None, limit=5, order="desc")) == ["again"]


def test_page_body_shapes() -> None:
    page = Page([item("a"), item("b")], True)
    assert page.body(first_last=True) == {
        "object": "list",
        "data": [{"id": "a"}, {"id": "b"}],
        "first_id": "a",
        "last_id": "b",
        "has_more": True,
    }
    assert Page([], False).body(first_last=True)["first_id"] is None
    assert Page([], False).body(first_last=False) == {"object": "list", "data": [], "has_more": False}


operations = st.lists(
    st.one_of(
        st.tuples(st.just("add"), st.integers(0, 40)),
        st.tuples(st.just("delete"), st.integers(0, 40)),
    ),
    max_size=120,
)


@settings(max_examples=150, deadline=None)
@given(
    ops=operations,
    limit=st.integers(1, 12),
    order=st.sampled_from(["asc", "desc"]),
    modulus=st.integers(1, 3),
)
def test_walking_pages_matches_a_plain_list_model(
    ops: list[tuple[str, int]], limit: int, order: Literal["asc", "desc"], modulus: int
) -> None:
    store = ResourceStore()
    model: list[str] = []
    for action, number in ops:
        ident = f"i{number}"
        if action == "add":
            store.add(item(ident, number=number))
            if ident not in model:
                model.append(ident)
        else:
            store.delete(ident)
            if ident in model:
                model.remove(ident)
    expected = [ident for ident in (model if order == "asc" else model[::-1]) if int(ident[1:]) % modulus == 0]

    seen: list[str] = []
    after: str | None = None
    while True:
        page = store.page(after=after, limit=limit, order=order, where=lambda entry: entry["number"] % modulus == 0)
        assert len(page.data) <= limit
        seen.extend(ids(page))
        assert page.has_more == (len(seen) < len(expected))
        if not page.has_more:
            break
        after = page.data[-1]["id"]
    assert seen == expected
    assert len(store) == len(model)
