"""The bundle-store conformance kit: every :class:`~syncstate.ports.BundleStore` passes it.

Subclass :class:`BundleStoreContract` in a test module and provide a
``bundles`` fixture that yields a fresh, empty store::

    class TestMyBundleStore(BundleStoreContract):
        @pytest.fixture
        def bundles(self, tmp_path):
            s = MyBundleStore(tmp_path / "db")
            yield s
            s.close()

A store that also offers :class:`~syncstate.ports.AtomicUnbundle` subclasses
:class:`AtomicUnbundleContract` too, with a ``pair`` fixture yielding
``(state_store, bundle_store)`` opened side by side. pytest collects the
inherited tests; the kit needs pytest installed.
"""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

import pytest

from syncstate.domain.records import RecordKey, SourceRecord
from syncstate.domain.state import Event, EventKind, ExportState
from syncstate.errors import InputError, InvalidTransition
from syncstate.ports import AtomicUnbundle, BundleEntry, BundleStore, StateStore

__all__ = ["AtomicUnbundleContract", "BundleStoreContract", "bundle_entry"]

CO = "acme"
DAY = dt.date(2024, 3, 1)
T0 = dt.datetime(2024, 3, 2, 9, 0, tzinfo=dt.UTC)
BUNDLE_KIND = "bundle.invoice"


def _key(kind: str, sid: str, company: str = CO) -> RecordKey:
    return RecordKey(company, kind, sid)


def bundle_entry(
    bid: str, client: str, *members: str, on: dt.date = DAY, company: str = CO
) -> BundleEntry:
    """A bundle ``bid`` of ``client`` holding the usage logs ``members`` (sorted)."""
    return BundleEntry(
        bundle=_key(BUNDLE_KIND, bid, company),
        client=client,
        on=on,
        members=tuple(sorted(_key("usage_log", m, company) for m in members)),
    )


def _ids(entries: list[BundleEntry]) -> list[str]:
    return [e.bundle.source_id for e in entries]


class BundleStoreContract:
    """Behaviour every bundle store must show. Provide a ``bundles`` fixture."""

    @pytest.fixture
    def bundles(self) -> Any:  # pragma: no cover - replaced by subclasses
        raise NotImplementedError("provide a `bundles` fixture yielding an empty bundle store")

    # -- membership ----------------------------------------------------------

    def test_a_transaction_is_in_at_most_one_bundle_and_a_conflict_adds_nothing(
        self, bundles: BundleStore
    ) -> None:
        bundles.add(CO, [bundle_entry("A", "ann", "u1", "u2")])
        with pytest.raises(InputError, match=r"usage_log/u2 is already in bundle"):
            bundles.add(CO, [bundle_entry("B", "bob", "u3"), bundle_entry("C", "ann", "u2")])
        assert _ids(bundles.entries(CO)) == ["A"]
        assert bundles.bundle_of(CO, [_key("usage_log", "u3")]) == {}

    def test_re_adding_an_identical_bundle_is_a_no_op(self, bundles: BundleStore) -> None:
        bundles.add(CO, [bundle_entry("A", "ann", "u1", "u2")])
        bundles.add(CO, [bundle_entry("A", "ann", "u1", "u2")])
        assert bundles.entries(CO) == [bundle_entry("A", "ann", "u1", "u2")]

    def test_a_bundle_with_other_content_or_no_members_is_refused(
        self, bundles: BundleStore
    ) -> None:
        bundles.add(CO, [bundle_entry("A", "ann", "u1")])
        with pytest.raises(InputError, match="already exists with other content"):
            bundles.add(CO, [bundle_entry("A", "ann", "u1", "u2")])
        with pytest.raises(InputError, match="has no members"):
            bundles.add(CO, [bundle_entry("E", "ann")])
        assert bundles.entries(CO) == [bundle_entry("A", "ann", "u1")]

    def test_bundle_of_names_the_bundle_of_each_member(self, bundles: BundleStore) -> None:
        bundles.add(CO, [bundle_entry("A", "ann", "u1", "u2"), bundle_entry("B", "bob", "u3")])
        found = bundles.bundle_of(
            CO, [_key("usage_log", "u2"), _key("usage_log", "u3"), _key("usage_log", "u9")]
        )
        assert found == {
            _key("usage_log", "u2"): _key(BUNDLE_KIND, "A"),
            _key("usage_log", "u3"): _key(BUNDLE_KIND, "B"),
        }
        assert bundles.bundle_of(CO, []) == {}

    def test_two_threads_claiming_one_transaction_never_both_win(
        self, bundles: BundleStore
    ) -> None:
        errors: list[BaseException] = []
        start = threading.Barrier(2)

        def add(bid: str) -> None:
            start.wait()
            try:
                bundles.add(CO, [bundle_entry(bid, "ann", "shared", f"own-{bid}")])
            except InputError as exc:
                errors.append(exc)

        threads = [threading.Thread(target=add, args=(b,)) for b in ("A", "B")]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(errors) == 1
        [winner] = bundles.entries(CO)
        assert bundles.bundle_of(CO, [_key("usage_log", "shared")]) == {
            _key("usage_log", "shared"): winner.bundle
        }
        loser = "B" if winner.bundle.source_id == "A" else "A"
        assert bundles.bundle_of(CO, [_key("usage_log", f"own-{loser}")]) == {}

    # -- un-bundling ---------------------------------------------------------

    def test_remove_deletes_the_bundle_and_every_association_at_once(
        self, bundles: BundleStore
    ) -> None:
        bundles.add(CO, [bundle_entry("A", "ann", "u1", "u2"), bundle_entry("B", "bob", "u3")])
        removed = bundles.remove(CO, [_key(BUNDLE_KIND, "A"), _key(BUNDLE_KIND, "nope")])
        assert removed == [bundle_entry("A", "ann", "u1", "u2")]
        assert bundles.bundle_of(CO, [_key("usage_log", "u1"), _key("usage_log", "u2")]) == {}
        assert bundles.remove(CO, [_key(BUNDLE_KIND, "A")]) == []  # again: a no-op
        bundles.add(CO, [bundle_entry("C", "ann", "u1")])  # free to bundle again
        assert _ids(bundles.entries(CO)) == ["C", "B"]

    def test_remove_returns_the_removed_bundles_in_stable_order(self, bundles: BundleStore) -> None:
        bundles.add(
            CO,
            [
                bundle_entry("Z", "bob", "u1"),
                bundle_entry("Y", "ann", "u2", on=DAY + dt.timedelta(days=1)),
                bundle_entry("X", "ann", "u3"),
            ],
        )
        removed = bundles.remove(CO, [_key(BUNDLE_KIND, b) for b in ("Z", "Y", "X")])
        assert _ids(removed) == ["X", "Y", "Z"]
        assert bundles.entries(CO) == []

    # -- reads ---------------------------------------------------------------

    def test_entries_are_paged_in_a_stable_order_and_filtered(self, bundles: BundleStore) -> None:
        bundles.add(
            CO,
            [
                bundle_entry("Z", "bob", "u1"),
                bundle_entry("Y", "ann", "u2", on=DAY + dt.timedelta(days=1)),
                bundle_entry("X", "ann", "u3"),
                bundle_entry("W", "Ann", "u4"),  # code-point order: "Ann" < "ann"
            ],
        )
        assert _ids(bundles.entries(CO)) == ["W", "X", "Y", "Z"]
        assert _ids(bundles.entries(CO, offset=1, limit=2)) == ["X", "Y"]
        assert _ids(bundles.entries(CO, offset=3)) == ["Z"]
        assert _ids(bundles.entries(CO, clients=["bob", "ann"])) == ["X", "Y", "Z"]
        assert _ids(bundles.entries(CO, clients=[])) == []
        wanted = [_key(BUNDLE_KIND, "Z"), _key(BUNDLE_KIND, "X"), _key(BUNDLE_KIND, "nope")]
        assert _ids(bundles.entries(CO, bundles=wanted)) == ["X", "Z"]
        assert bundles.entries(CO, bundles=[]) == []

    def test_entries_come_back_whole_with_members_sorted(self, bundles: BundleStore) -> None:
        many = [f"u{i:03d}" for i in range(120)]
        bundles.add(CO, [bundle_entry("A", "ann", *many)])
        [entry] = bundles.entries(CO)
        assert entry.members == tuple(_key("usage_log", m) for m in many)
        assert entry.on == DAY and entry.client == "ann"

    # -- one company per call --------------------------------------------------

    def test_every_call_is_scoped_to_one_company(self, bundles: BundleStore) -> None:
        bundles.add(CO, [bundle_entry("A", "ann", "u1")])
        bundles.add("other", [bundle_entry("A", "ann", "u1", company="other")])
        assert _ids(bundles.entries(CO)) == ["A"]
        bundles.remove("other", [_key(BUNDLE_KIND, "A", "other")])
        assert bundles.entries(CO) == [bundle_entry("A", "ann", "u1")]
        assert bundles.entries("other") == []

    def test_keys_of_another_company_are_refused_and_change_nothing(
        self, bundles: BundleStore
    ) -> None:
        bundles.add(CO, [bundle_entry("A", "ann", "u1")])
        with pytest.raises(InputError, match="does not belong"):
            bundles.add(
                CO, [bundle_entry("B", "ann", "u2"), bundle_entry("C", "a", "u3", company="x")]
            )
        with pytest.raises(InputError, match="does not belong"):
            bundles.remove("x", [_key(BUNDLE_KIND, "A")])
        with pytest.raises(InputError, match="does not belong"):
            bundles.bundle_of("x", [_key("usage_log", "u1")])
        assert bundles.entries(CO) == [bundle_entry("A", "ann", "u1")]

    # -- mappings ------------------------------------------------------------

    def test_mappings_are_added_replaced_and_deleted(self, bundles: BundleStore) -> None:
        bundles.set_mappings(CO, [("item", "room", "I1"), ("customer", "ann", "C1")])
        bundles.set_mappings(CO, [("customer", "ann", "C2"), ("item", "room", "")])
        bundles.set_mappings(CO, [("item", "gone", "")])  # deleting a missing one: no-op
        assert bundles.mappings(CO) == [("customer", "ann", "C2")]

    def test_mappings_are_sorted_and_scoped_to_one_company(self, bundles: BundleStore) -> None:
        bundles.set_mappings(CO, [("item", "b", "2"), ("customer", "z", "9"), ("item", "a", "1")])
        bundles.set_mappings("other", [("item", "a", "X")])
        assert bundles.mappings(CO) == [
            ("customer", "z", "9"),
            ("item", "a", "1"),
            ("item", "b", "2"),
        ]
        assert bundles.mappings("other") == [("item", "a", "X")]
        assert bundles.mappings("nobody") == []


def _bundle_record(bid: str) -> SourceRecord:
    return SourceRecord(
        key=_key(BUNDLE_KIND, bid), on=DAY, subject="ann", fields={"total": "10.00"}
    )


class AtomicUnbundleContract:
    """Behaviour of a bundle store that un-bundles in one transaction with its state store.

    Provide a ``pair`` fixture yielding ``(state_store, bundle_store)`` opened
    side by side (e.g. ``SQLiteBundleStore.beside(state)``).
    """

    @pytest.fixture
    def pair(self) -> Any:  # pragma: no cover - replaced by subclasses
        raise NotImplementedError("provide a `pair` fixture: (state store, bundle store)")

    def _setup(self, pair: tuple[StateStore, BundleStore]) -> tuple[StateStore, AtomicUnbundle]:
        state, bundles = pair
        assert isinstance(bundles, AtomicUnbundle)
        state.ingest(CO, [_bundle_record("A"), _bundle_record("B")], at=T0, actor="t")
        bundles.add(CO, [bundle_entry("A", "ann", "u1"), bundle_entry("B", "bob", "u2")])
        return state, bundles

    def test_it_says_which_state_store_it_shares_transactions_with(
        self, pair: tuple[StateStore, BundleStore]
    ) -> None:
        state, bundles = pair
        assert isinstance(bundles, AtomicUnbundle)
        assert bundles.shares_transactions_with(state)
        assert not bundles.shares_transactions_with(object())

    def test_remove_and_apply_changes_both_stores(
        self, pair: tuple[StateStore, BundleStore]
    ) -> None:
        state, bundles = self._setup(pair)
        unlink = Event.of(EventKind.UNLINK, "un-bundled")
        removed = bundles.remove_and_apply(
            CO, [_key(BUNDLE_KIND, "A")], [(_key(BUNDLE_KIND, "A"), unlink)], at=T0, actor="t"
        )
        assert removed == [bundle_entry("A", "ann", "u1")]
        assert state.get(_key(BUNDLE_KIND, "A")).state is ExportState.UNLINKED
        assert state.get(_key(BUNDLE_KIND, "B")).state is ExportState.NOT_EXPORTED
        assert _ids(pair[1].entries(CO)) == ["B"]

    def test_an_invalid_event_changes_neither_store(
        self, pair: tuple[StateStore, BundleStore]
    ) -> None:
        state, bundles = self._setup(pair)
        events = [
            (_key(BUNDLE_KIND, "A"), Event.of(EventKind.UNLINK, "un-bundled")),
            (_key(BUNDLE_KIND, "B"), Event.succeed("R1", "0")),  # B was never claimed
        ]
        with pytest.raises(InvalidTransition):
            bundles.remove_and_apply(
                CO, [_key(BUNDLE_KIND, "A"), _key(BUNDLE_KIND, "B")], events, at=T0, actor="t"
            )
        assert state.get(_key(BUNDLE_KIND, "A")).state is ExportState.NOT_EXPORTED
        assert state.journal(_key(BUNDLE_KIND, "A")) == []
        assert _ids(pair[1].entries(CO)) == ["A", "B"]
