from __future__ import annotations

import copy
import itertools
import json
from typing import Any

import jsonpatch
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from reqbisect.diff import ChangeTree, diff
from reqbisect.pointer import format_pointer as to_pointer


def strict_equal(x: Any, y: Any) -> bool:
    """``==`` that also compares types, so 1, 1.0 and True all differ."""
    if type(x) is not type(y):
        return False
    if isinstance(x, dict):
        return x.keys() == y.keys() and all(strict_equal(x[k], y[k]) for k in x)
    if isinstance(x, list):
        return len(x) == len(y) and all(strict_equal(p, q) for p, q in zip(x, y))
    return bool(x == y)


def everything(tree: ChangeTree) -> range:
    return range(len(tree.changes))


def check_subset(tree: ChangeTree, ids: Any) -> Any:
    """Apply ``ids`` both ways and insist they agree; return the candidate."""
    got = tree.apply(ids)
    json.dumps(got)
    patch = tree.patch(ids)
    assert {op["op"] for op in patch} <= {"add", "remove", "replace"}
    via_patch = jsonpatch.apply_patch(tree.base, patch)
    assert strict_equal(via_patch, got), (patch, via_patch, got)
    return got


def kinds_and_paths(tree: ChangeTree) -> list[tuple[str, tuple[str | int, ...]]]:
    return [(c.kind, c.path) for c in tree.changes]


# --- arrays ------------------------------------------------------------------------------


def test_two_deletions_apply_in_any_subset() -> None:
    # jsonpatch.make_patch gives remove /0, remove /1 here; the second alone deletes 2.
    tree = diff([1, 2, 3, 4], [2, 4])
    assert kinds_and_paths(tree) == [("delete", (0,)), ("delete", (2,))]
    assert tree.apply([]) == [1, 2, 3, 4]
    assert tree.apply([0]) == [2, 3, 4]
    assert tree.apply([1]) == [1, 2, 4]
    assert tree.apply([0, 1]) == [2, 4]
    assert tree.patch([1]) == [{"op": "remove", "path": "/2"}]
    assert tree.patch([0, 1]) == [{"op": "remove", "path": "/0"}, {"op": "remove", "path": "/1"}]
    for ids in ([], [0], [1], [0, 1]):
        check_subset(tree, ids)


def test_mixed_inserts_and_deletes_track_shifting_indices() -> None:
    tree = diff(["a", "b", "c", "d"], ["x", "b", "y", "d", "z"])
    n = len(tree.changes)
    for size in range(n + 1):
        for ids in itertools.combinations(range(n), size):
            check_subset(tree, ids)
    assert strict_equal(tree.apply(everything(tree)), ["x", "b", "y", "d", "z"])


def test_identity_key_aligns_elements_by_id() -> None:
    a = [{"id": 1, "v": "one"}, {"id": 2, "v": "two"}, {"id": 3, "v": "three"}]
    b = [{"id": 1, "v": "one"}, {"id": 3, "v": "THREE"}, {"id": 4, "v": "four"}]
    tree = diff(a, b)
    assert kinds_and_paths(tree) == [
        ("delete", (1,)),
        ("replace", (2, "v")),
        ("insert", (3,)),
        ("add", (3, "id")),
        ("add", (3, "v")),
    ]
    assert tree.apply([1]) == [a[0], a[1], {"id": 3, "v": "THREE"}]
    check_subset(tree, [1, 2, 3])


def test_identity_key_never_rewrites_an_identity() -> None:
    tree = diff([{"name": "a", "x": 1}], [{"name": "b", "x": 1}])
    assert [c.kind for c in tree.changes if c.parent is None] == ["delete", "insert"]


def test_repeated_identities_fall_back_to_equality_and_pairing() -> None:
    tree = diff([{"id": 1, "x": 1}, {"id": 1, "x": 2}], [{"id": 1, "x": 1}, {"id": 1, "x": 3}])
    assert kinds_and_paths(tree) == [("replace", (1, "x"))]


def test_changed_element_deep_in_array_pairs_positionally() -> None:
    messages = [{"role": "user" if i % 2 else "assistant", "content": f"message {i}"} for i in range(40)]
    changed = copy.deepcopy(messages)
    changed[17]["content"] = "something else entirely"
    tree = diff({"messages": messages}, {"messages": changed})
    assert kinds_and_paths(tree) == [("replace", ("messages", 17, "content"))]
    assert tree.patch([0]) == [
        {"op": "replace", "path": "/messages/17/content", "value": "something else entirely"}
    ]


def test_gap_pairs_same_type_containers_and_deletes_the_rest() -> None:
    tree = diff([0, {"a": 1}, "s", 9], [0, {"a": 2}, [1], 9])
    assert kinds_and_paths(tree) == [
        ("replace", (1, "a")),
        ("delete", (2,)),
        ("insert", (2,)),
        ("insert", (2, 0)),
    ]
    check_subset(tree, [1, 2])


def test_unmatched_containers_of_different_types_are_not_paired() -> None:
    tree = diff([{"a": 1}], [[1]])
    assert [c.kind for c in tree.changes] == ["delete", "insert", "insert"]


# --- similar elements and replaced elements ----------------------------------------------

BILLING = {"type": "text", "text": "x-anthropic-billing-header: cc_version=2.1.83.c50; cc_entrypoint=cli; cch=00000;"}
USER_A = {"type": "text", "text": "You are a careful assistant."}
USER_B = {"type": "text", "text": "Answer in French."}
CACHE = {"type": "ephemeral"}
SDK_SYSTEM = {"body": {"model": "m", "system": [USER_A, USER_B]}}
CLI_SYSTEM = {"body": {"model": "m", "system": [BILLING, {**USER_A, "cache_control": CACHE}, {**USER_B, "cache_control": CACHE}]}}


def test_a_block_inserted_before_near_equal_blocks_is_an_insertion() -> None:
    tree = diff(SDK_SYSTEM, CLI_SYSTEM)
    top = [c for c in tree.changes if c.parent is None]
    assert [(c.kind, c.pointer) for c in top] == [
        ("insert", "/body/system/0"),
        ("add", "/body/system/0/cache_control"),
        ("add", "/body/system/1/cache_control"),
    ]
    billing = [c.id for c in tree.changes if c.path[:3] == ("body", "system", 0) and c.kind != "add"
               or c.parent == top[0].id]
    assert tree.patch(billing) == [{"op": "add", "path": "/body/system/0", "value": BILLING}]
    assert tree.patch([top[1].id, top[1].id + 1]) == [
        {"op": "add", "path": "/body/system/0/cache_control", "value": CACHE}
    ]
    check_subset(tree, everything(tree))


def test_fix_mode_answers_the_billing_block_alone() -> None:
    import reqbisect

    def test(document: Any) -> bool:
        return document["body"]["system"][0] == BILLING

    result = reqbisect.bisect_documents(CLI_SYSTEM, SDK_SYSTEM, test)
    assert result.patch == [{"op": "add", "path": "/body/system/0", "value": BILLING}]
    assert result.minimal_good["body"]["system"][1:] == [USER_A, USER_B]


def test_dissimilar_elements_still_pair_by_position() -> None:
    a = [{"role": "user", "content": "hi"}, {"role": "user", "content": "bye"}]
    b = [{"role": "user", "content": "hello"}, {"role": "user", "content": "bye!"}]
    assert kinds_and_paths(diff(a, b)) == [("replace", (0, "content")), ("replace", (1, "content"))]


def test_similar_pairs_keep_their_order_and_the_rest_pairs_by_position() -> None:
    rec = [{"id2": i, "kind": "r", "tag": "t", "v": i} for i in range(4)]
    a = [rec[0], rec[1], {"x": 1}, rec[2], rec[3]]
    b = [{**rec[0], "v": 9}, ["y"], {**rec[2], "v": 9}, {**rec[3], "v": 9}]
    assert kinds_and_paths(diff(a, b)) == [
        ("replace", (0, "v")),
        ("delete", (1,)),
        ("insert", (1,)),
        ("insert", (1, 0)),
        ("delete", (2,)),
        ("replace", (3, "v")),
        ("replace", (4, "v")),
    ]


def test_a_changed_scalar_element_renders_as_one_replace() -> None:
    tree = diff(["a", "b", "c"], ["a", "x", "c"])
    assert kinds_and_paths(tree) == [("delete", (1,)), ("insert", (1,))]
    assert tree.patch([0, 1]) == [{"op": "replace", "path": "/1", "value": "x"}]
    assert tree.patch([0]) == [{"op": "remove", "path": "/1"}]
    assert tree.patch([1]) == [{"op": "add", "path": "/2", "value": "x"}]  # after the kept "b"
    nested = diff({"tags": [1, {"a": 1}, 3]}, {"tags": [2, [5], 3]})
    assert nested.patch(everything(nested)) == [
        {"op": "replace", "path": "/tags/0", "value": 2},
        {"op": "replace", "path": "/tags/1", "value": [5]},
    ]


def test_pairing_a_long_gap_stays_cheap_and_finds_the_insertion() -> None:
    a = [{"role": "user", "n": i, "content": [{"type": "text", "text": f"message {i}"}]} for i in range(3000)]
    b = [{**m, "cache_control": CACHE} for m in a]
    b.insert(1500, {"role": "user", "content": "new"})
    tree = diff(a, b)
    top = [c for c in tree.changes if c.parent is None]
    assert [c.kind for c in top].count("insert") == 1
    assert [c.pointer for c in top if c.kind == "insert"] == ["/1500"]
    assert all(c.kind == "add" and c.path[1] == "cache_control" for c in top if c.kind != "insert")


RECORDS = st.lists(st.text(max_size=3), min_size=1, max_size=6, unique=True).map(
    lambda texts: [{"type": "text", "text": t, "n": i} for i, t in enumerate(texts)]
)


@settings(max_examples=60, deadline=None)
@given(RECORDS, st.data())
def test_similar_elements_recurse_and_new_ones_are_insertions(records: list[Any], data: st.DataObject) -> None:
    b = [{**r, "cache_control": CACHE} if data.draw(st.booleans()) else r for r in records]
    fresh = data.draw(st.lists(st.integers(0, len(b)), max_size=3))
    for k, at in enumerate(sorted(fresh, reverse=True)):
        b.insert(at, {"fresh": k})
    tree = diff(records, b)
    top = [c for c in tree.changes if c.parent is None]
    assert [c.kind for c in top].count("insert") == len(fresh)
    assert all(c.kind in ("insert", "add") for c in top)
    assert strict_equal(check_subset(tree, everything(tree)), b)
    for ids in (range(0, len(tree.changes), 2), [c.id for c in top if c.kind == "insert"]):
        check_subset(tree, ids)


# --- added and replaced containers -------------------------------------------------------


STORY_A = {"body": {"model": "m", "messages": [{"role": "user", "content": "hi"}]}}
STORY_B = {
    "body": {
        "model": "m",
        "messages": [{"role": "user", "content": "hi"}],
        "system": [{"type": "text", "text": "x"}, {"type": "text", "text": "y"}],
    }
}


def test_story_add_of_system_renders_as_one_op() -> None:
    tree = diff(STORY_A, STORY_B)
    assert tree.patch(everything(tree)) == [
        {"op": "add", "path": "/body/system", "value": STORY_B["body"]["system"]}
    ]


def test_added_container_is_a_tree_of_changes() -> None:
    tree = diff(STORY_A, STORY_B)
    assert [(c.id, c.parent, c.kind, c.path, c.end) for c in tree.changes] == [
        (0, None, "add", ("body", "system"), 7),
        (1, 0, "insert", ("body", "system", 0), 4),
        (2, 1, "add", ("body", "system", 0, "type"), 3),
        (3, 1, "add", ("body", "system", 0, "text"), 4),
        (4, 0, "insert", ("body", "system", 1), 7),
        (5, 4, "add", ("body", "system", 1, "type"), 6),
        (6, 4, "add", ("body", "system", 1, "text"), 7),
    ]
    assert tree.changes[0].new is STORY_B["body"]["system"]


def test_partial_add_of_nested_container_is_one_op() -> None:
    tree = diff(STORY_A, STORY_B)
    assert tree.patch([0, 1, 2, 3]) == [
        {"op": "add", "path": "/body/system", "value": [{"type": "text", "text": "x"}]}
    ]
    assert tree.patch([0, 4, 6]) == [{"op": "add", "path": "/body/system", "value": [{"text": "y"}]}]
    assert tree.apply([0])["body"]["system"] == []


def test_children_without_their_parent_are_ignored() -> None:
    tree = diff(STORY_A, STORY_B)
    assert tree.closure([2, 3, 4, 5]) == frozenset()
    assert tree.closure([0, 2, 4, 5]) == frozenset({0, 4, 5})
    assert tree.apply([2, 3, 5]) == STORY_A
    assert tree.patch([1, 2, 3]) == []


def test_unknown_change_ids_are_an_error() -> None:
    tree = diff({"a": 1}, {"a": 2})
    with pytest.raises(ValueError, match="no change 1"):
        tree.apply([1])
    with pytest.raises(ValueError, match="no change -1"):
        tree.patch([-1])


# --- scalars and types -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b"),
    [(1, 1.0), (1, True), (1.0, True), (0, False), (None, False), ("1", 1), ({}, []), ([], {})],
)
def test_values_of_different_types_differ(a: Any, b: Any) -> None:
    tree = diff({"k": a}, {"k": b})
    assert [c.kind for c in tree.changes] == ["replace"]
    assert strict_equal(check_subset(tree, [0]), {"k": b})


def test_object_replaced_by_array_is_replaced_by_parts() -> None:
    tree = diff({"k": {"a": 1}}, {"k": [1, 2]})
    assert kinds_and_paths(tree) == [("replace", ("k",)), ("insert", ("k", 0)), ("insert", ("k", 1))]
    assert tree.changes[0].old == {"a": 1}
    assert tree.patch([0, 2]) == [{"op": "replace", "path": "/k", "value": [2]}]
    assert tree.apply([0]) == {"k": []}


def test_root_values_are_replaced_at_the_empty_pointer() -> None:
    tree = diff(1, {"a": [True]})
    assert tree.patch(everything(tree)) == [{"op": "replace", "path": "", "value": {"a": [True]}}]
    assert tree.changes[0].pointer == ""


def test_equal_documents_have_no_changes() -> None:
    doc = {"a": [1, {"b": "c d"}], "e": 1.5}
    assert diff(doc, doc).changes == ()
    assert diff(doc, copy.deepcopy(doc)).changes == ()
    tree = diff(doc, copy.deepcopy(doc))
    assert tree.apply([]) is doc
    assert tree.patch([]) == []


def test_key_order_keeps_base_order_then_added_keys() -> None:
    tree = diff({"b": 1, "a": 1, "c": 1}, {"z": 1, "c": 2, "a": 1, "y": 1})
    assert list(tree.apply(everything(tree))) == ["a", "c", "z", "y"]
    assert [c.path for c in tree.changes] == [("b",), ("c",), ("z",), ("y",)]


# --- strings -----------------------------------------------------------------------------


def test_url_path_is_minimised_by_segment() -> None:
    v1, v2 = "https://api.example.com/v1/messages", "https://api.example.com/v2/messages"
    tree = diff({"url": v1}, {"url": v2})
    assert [(c.kind, c.path, c.old, c.new) for c in tree.changes] == [("token", ("url",), "/v1", "/v2")]
    assert tree.patch([0]) == [{"op": "replace", "path": "/url", "value": v2}]


def test_url_query_tokens_are_independent() -> None:
    tree = diff("/v1/items?a=1&b=2", "/v1/items?a=1&c=3&d=4")
    assert [(c.old, c.new) for c in tree.changes] == [("&b=2", "&c=3"), (None, "&d=4")]
    assert tree.apply([1]) == "/v1/items?a=1&b=2&d=4"
    assert tree.apply([0]) == "/v1/items?a=1&c=3"


def test_comma_list_is_minimised_by_item() -> None:
    tree = diff({"accept-encoding": "gzip, deflate, br"}, {"accept-encoding": "gzip, br, zstd"})
    assert [(c.old, c.new) for c in tree.changes] == [(", deflate", None), (None, ", zstd")]
    assert tree.apply([0]) == {"accept-encoding": "gzip, br"}
    assert tree.apply([1]) == {"accept-encoding": "gzip, deflate, br, zstd"}
    assert tree.changes[0].summary == 'token /accept-encoding: delete ", deflate"'


def test_semicolon_list_is_minimised_by_item() -> None:
    tree = diff("a=1; b=2", "a=1; b=3")
    assert [(c.old, c.new) for c in tree.changes] == [("; b=2", "; b=3")]


def test_user_agent_is_minimised_by_word() -> None:
    tree = diff("Mozilla/5.0 (X11; Linux) Foo/1", "Mozilla/5.0 (X11; Mac) Foo/2")
    assert [(c.old, c.new) for c in tree.changes] == [(" Linux)", " Mac)"), (" Foo/1", " Foo/2")]
    assert tree.apply([1]) == "Mozilla/5.0 (X11; Linux) Foo/2"
    assert tree.patch([0]) == [{"op": "replace", "path": "", "value": "Mozilla/5.0 (X11; Mac) Foo/1"}]


@pytest.mark.parametrize(
    ("a", "b"),
    [("abc", "abd"), ("one two", "three four"), ("single", "two words"), ("", "x y"), ("/a", "a b")],
)
def test_strings_without_common_tokens_are_replaced_whole(a: str, b: str) -> None:
    tree = diff({"s": a}, {"s": b})
    assert [c.kind for c in tree.changes] == ["replace"]


# --- pointers ----------------------------------------------------------------------------


def test_keys_are_escaped_in_paths_and_patches() -> None:
    a = {"a/b": 1, "m~n": {"~1": 2}, "": 3, "/": [1]}
    b = {"a/b": 2, "m~n": {"~1": 3}, "": 4, "/": [1, 2]}
    tree = diff(a, b)
    assert [c.pointer for c in tree.changes] == ["/a~1b", "/m~0n/~01", "/", "/~1/1"]
    assert check_subset(tree, everything(tree)) == b
    assert to_pointer(("a/b", 0, "~")) == "/a~1b/0/~0"


def test_changes_are_in_document_preorder() -> None:
    a = {"headers": {"a": "1", "b": "2"}, "body": {"x": [1, 2], "y": "z"}}
    b = {"headers": {"a": "2", "c": "3"}, "body": {"x": [2, 3], "y": "w"}, "query": {"q": "1"}}
    tree = diff(a, b)
    assert [c.pointer for c in tree.changes] == [
        "/headers/a",
        "/headers/b",
        "/headers/c",
        "/body/x/0",
        "/body/x/2",
        "/body/y",
        "/query",
        "/query/q",
    ]


def test_summaries_read_well() -> None:
    tree = diff({"a": 1, "b": [1], "c": "x" * 100}, {"a": 2, "b": [], "d": {"e": None}, "c": "y"})
    assert [c.summary for c in tree.changes] == [
        "replace /a: 1 -> 2",
        "delete /b/0 (was 1)",
        'replace /c: "' + "x" * 59 + '…" -> "y"',
        "add /d = {…1 key}",
        "add /d/e = null",
    ]


# --- properties --------------------------------------------------------------------------

KEYS = st.sampled_from(["a", "b", "id", "name", "a/b", "m~n", "", "~", "/", "é"]) | st.text(max_size=4)
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-3, 3)
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.sampled_from([0, 1, 1.0, 0.0, True, False, "", "a"])
    | st.text(max_size=6)
)
TOKEN_STRINGS = st.lists(
    st.sampled_from(["/v1", "/v2", "/x", "?q=1", "&a=2", ", a", ", b", "; c", " w", " z", "foo", "ht://h"]),
    min_size=1,
    max_size=6,
).map("".join)
LEAVES = st.integers(0, 2).flatmap(lambda i: TOKEN_STRINGS if i == 0 else SCALARS)
JSON = st.recursive(
    LEAVES,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(KEYS, inner, max_size=5),
    max_leaves=25,
)


@st.composite
def mutated(draw: st.DrawFn, value: Any, depth: int = 0) -> Any:
    """A value derived from ``value``: most of it kept, some of it changed."""
    if depth > 6 or draw(st.sampled_from(["edit", "edit", "edit", "edit", "fresh"])) == "fresh":
        return draw(JSON)
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            action = draw(st.sampled_from(["edit", "keep", "keep", "edit", "drop"]))
            if action != "drop":
                out[k] = draw(mutated(v, depth + 1)) if action == "edit" else v
        for k in draw(st.lists(KEYS, max_size=2)):
            out.setdefault(k, draw(JSON))
        return out
    if isinstance(value, list):
        items = [draw(mutated(v, depth + 1)) if draw(st.booleans()) else v for v in value]
        for _ in range(draw(st.integers(0, 2))):
            if items and draw(st.booleans()):
                del items[draw(st.integers(0, len(items) - 1))]
            else:
                pool = st.sampled_from(value) if value else JSON
                items.insert(draw(st.integers(0, len(items))), draw(pool | JSON))
        if draw(st.integers(0, 5)) == 0:
            items = draw(st.permutations(items))
        return items
    if isinstance(value, str):
        cut = draw(st.sampled_from([c for c in ("/", ", ", "; ", " ", "&") if c in value] or ["/", " "]))
        words = value.split(cut)
        for _ in range(draw(st.integers(1, 3))):
            at = draw(st.integers(0, len(words)))
            action = draw(st.sampled_from(["replace", "insert", "delete"]))
            if action == "delete" and at < len(words):
                del words[at]
            elif action == "replace" and at < len(words):
                words[at] = draw(st.sampled_from(["v9", "new", "x"]))
            else:
                words.insert(at, draw(st.sampled_from(["v9", "new", "x"])))
        return cut.join(words)
    return draw(SCALARS) if draw(st.booleans()) else value


KEYED_ARRAYS = st.lists(  # arrays aligned by an identity key
    st.fixed_dictionaries({"id": st.integers(0, 6)}, optional={"v": JSON, "w": SCALARS}),
    unique_by=lambda element: element["id"],
    min_size=1,
    max_size=6,
)
DOCUMENTS = (
    JSON
    | st.dictionaries(KEYS, JSON, min_size=1, max_size=6)
    | st.dictionaries(KEYS, TOKEN_STRINGS | JSON, min_size=1, max_size=4)  # strings to tokenise
    | st.dictionaries(KEYS, KEYED_ARRAYS, min_size=1, max_size=3)
)


@st.composite
def pairs(draw: st.DrawFn) -> tuple[Any, Any]:
    """Two documents: mostly one derived from the other, sometimes unrelated."""
    a = draw(DOCUMENTS)
    if draw(st.sampled_from(["derived", "derived", "derived", "derived", "unrelated"])) == "unrelated":
        return a, draw(JSON)
    return a, draw(mutated(a))


PROPERTY = settings(max_examples=200, deadline=None)


@PROPERTY
@given(pairs())
@example(([1, 2, 3, 4], [2, 4]))
@example(({"a": [{"id": 1}, {"id": 2}]}, {"a": [{"id": 2, "x": [1]}, {"id": 1}]}))
@example(([[1], [2], 3], [3, [2, 5], [1]]))
@example((SDK_SYSTEM, CLI_SYSTEM))
@example((CLI_SYSTEM, SDK_SYSTEM))
def test_applying_everything_gives_b_and_nothing_gives_a(pair: tuple[Any, Any]) -> None:
    a, b = pair
    tree = diff(a, b)
    assert strict_equal(check_subset(tree, everything(tree)), b)
    assert strict_equal(check_subset(tree, []), a)


@PROPERTY
@given(pairs(), st.data())
def test_any_subset_applies_and_its_patch_agrees(pair: tuple[Any, Any], data: st.DataObject) -> None:
    a, b = pair
    tree = diff(a, b)
    n = len(tree.changes)
    for _ in range(3):
        ids = data.draw(st.sets(st.integers(0, n - 1))) if n else set()
        got = check_subset(tree, ids)
        assert strict_equal(got, tree.apply(tree.closure(ids)))


@PROPERTY
@given(pairs())
def test_neither_document_is_modified(pair: tuple[Any, Any]) -> None:
    a, b = pair
    a_copy, b_copy = copy.deepcopy(a), copy.deepcopy(b)
    tree = diff(a, b)
    n = len(tree.changes)
    for ids in (range(n), range(0, n, 2), range(1, n, 2)):
        tree.apply(ids)
        tree.patch(ids)
    assert strict_equal(a, a_copy) and strict_equal(b, b_copy)


@PROPERTY
@given(JSON)
def test_a_document_equal_to_itself_has_no_changes(a: Any) -> None:
    assert diff(a, a).changes == ()
    assert diff(a, copy.deepcopy(a)).changes == ()


@PROPERTY
@given(pairs())
def test_changes_are_numbered_in_preorder_with_contiguous_subtrees(pair: tuple[Any, Any]) -> None:
    tree = diff(*pair)
    changes = tree.changes
    for c in changes:
        assert changes[c.id] is c
        assert c.id < c.end <= len(changes)
        for d in changes[c.id + 1 : c.end]:
            assert d.end <= c.end  # descendants nest inside
            assert d.parent is not None and c.id <= d.parent < d.id
            assert d.path[: len(c.path)] == c.path
        if c.parent is not None:
            assert changes[c.parent].end >= c.end
    # Outside added containers, paths point into A and the indices into one array never decrease.
    top = [c.path for c in changes if c.parent is None]
    for p, q in zip(top, top[1:]):
        k = next((k for k, (x, y) in enumerate(zip(p, q)) if x != y), None)
        if k is not None and isinstance(p[k], int) and isinstance(q[k], int):
            assert p[k] < q[k]
    # Changes under one object member (no array index on the way) are contiguous.
    prefixes = {c.path[:k] for c in changes for k in range(len(c.path) + 1)}
    for prefix in prefixes:
        if all(isinstance(token, str) for token in prefix):
            hits = [c.id for c in changes if c.path[: len(prefix)] == prefix]
            assert hits == list(range(hits[0], hits[-1] + 1))
