"""A district case's mirrors at the posts (nvr/district/mirror.py) against a small fake post: the order of what the
district writes and what it asks of the post, and what a refusal in between leaves. The real posts are in
tests/test_district.py."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

import httpx
import pytest
from fastapi import HTTPException
from sqlalchemy.exc import OperationalError

from nvr.district import mirror
from nvr.district.case_store import DistrictCaseStore
from nvr.district.mirror import Mirrors, Wanted
from storage.index import RecordingIndex

STATION = "phuong-a"
Officer = Literal["closes", "deletes"]  # what an officer at the post does to a mirror just made, before the hold


class FakePost:
    """A post's case API as the district uses it, with its cases' statuses and the items held."""

    def __init__(self, store: DistrictCaseStore, case_id: int, officer: Officer) -> None:
        self.store, self.case_id, self.officer = store, case_id, officer
        self.cases: dict[int, str] = {}  # id -> status
        self.items: dict[int, int] = {}  # case id -> items
        self.unheld_items = 0  # items put into a mirror the district did not hold yet
        self.acted = False

    def handle(self, request: httpx.Request) -> httpx.Response:
        path, method = request.url.path, request.method
        if method == "POST" and path == "/api/cases":
            case = len(self.cases) + 1
            self.cases[case], self.items[case] = "open", 0
            return httpx.Response(201, json={"id": case, "status": "open"})
        case = int(path.split("/")[3])
        if case not in self.cases:
            return httpx.Response(404, json={"detail": f"no case {case}"})
        if method == "POST" and path.endswith("/items"):
            held = self.store.get(self.case_id)
            self.unheld_items += held is None or held.mirrors.get(STATION) != case
            self.items[case] += 1
            return httpx.Response(201, json={"id": 100 + case})
        if method == "GET":
            if not self.acted:  # what the officer did between the making and the district's hold shows now
                self.acted = True
                if self.officer == "deletes":
                    del self.cases[case]
                    return httpx.Response(404, json={"detail": f"no case {case}"})
                self.cases[case] = "closed"
            return httpx.Response(200, json={"id": case, "status": self.cases[case]})
        if method == "PATCH":
            self.cases[case] = json.loads(request.content)["status"]
            return httpx.Response(200, json={"id": case, "status": self.cases[case]})
        if method == "DELETE" and path == f"/api/cases/{case}":
            del self.cases[case]
            return httpx.Response(204)
        return httpx.Response(405)


def add(store: DistrictCaseStore, post: FakePost, case_id: int) -> list[int]:
    """The post items held after asking the district's mirrors for one item at the post."""
    case = store.get(case_id)
    assert case is not None

    async def run() -> list[int]:
        async with httpx.AsyncClient(transport=httpx.MockTransport(post.handle), base_url="http://post") as client:
            mirrors = Mirrors({STATION: client}, ZoneInfo("Asia/Ho_Chi_Minh"), store)
            held = await mirrors.add(case, [Wanted(STATION, "cong", 1_000, 61_000, "")])
            return [item.post_item_id for item in held]

    return asyncio.run(run())


@pytest.fixture
def store(tmp_path: Path) -> Iterator[DistrictCaseStore]:
    index = RecordingIndex(f"sqlite:///{tmp_path / 'catalog.db'}", "district")
    yield DistrictCaseStore(index.engine)
    index.close()


def test_a_mirror_is_held_before_it_holds_footage_and_an_officer_s_close_in_between_is_undone(
        store: DistrictCaseStore) -> None:
    case = store.create("Cướp giật", "", "truc-ban")
    post = FakePost(store, case.id, "closes")
    assert add(store, post, case.id) == [101]
    assert post.unheld_items == 0, "footage was put into a mirror the post could still let its officers close"
    assert post.acted and post.cases == {1: "open"}, "the officer's close was not undone"
    found = store.get(case.id)
    assert found is not None and found.mirrors == {STATION: 1}


class CatalogDown(DistrictCaseStore):
    def hold(self, case_id: int, station: str, post_case_id: int) -> None:
        raise OperationalError("INSERT INTO district_case_posts", {}, ConnectionRefusedError())


def test_a_hold_the_catalog_cannot_write_refuses_the_change_and_the_mirror_made_is_taken_back(tmp_path: Path) -> None:
    index = RecordingIndex(f"sqlite:///{tmp_path / 'catalog.db'}", "district")
    store = CatalogDown(index.engine)
    case = store.create("Cướp giật", "", "truc-ban")
    post = FakePost(store, case.id, "closes")
    with pytest.raises(OperationalError):  # the district app answers it 503 (test_catalog_away.py)
        add(store, post, case.id)
    assert post.cases == {} and post.unheld_items == 0, "the mirror made for the refused change stayed at the post"
    index.close()


class OddPost(FakePost):
    """A post that answers the item's request with `item_answer()` (a proxy's page, an answer without the item's
    id, a refusal that is no JSON object, a byte every few seconds)."""

    def __init__(self, store: DistrictCaseStore, case_id: int, item_answer: Callable[[], httpx.Response]) -> None:
        super().__init__(store, case_id, "closes")
        self.item_answer = item_answer

    def handle(self, request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and request.url.path.endswith("/items"):
            return self.item_answer()
        return super().handle(request)


async def _drip() -> AsyncIterator[bytes]:
    for _ in range(100):
        await asyncio.sleep(1.0)
        yield b" "


ODD_ANSWERS: dict[str, Callable[[], httpx.Response]] = {
    "proxy": lambda: httpx.Response(200, text="<html>gateway</html>"),
    "no id": lambda: httpx.Response(201, json={"ok": True}),
    "refusal list": lambda: httpx.Response(500, json=["oops"]),
    "dripping": lambda: httpx.Response(201, content=_drip()),
}


@pytest.mark.parametrize(("post_kind", "status", "said"), [
    ("deletes", 409, "deleted there as it was made"),  # an officer there deleted the mirror as it was made
    ("proxy", 502, "not a JSON object"),
    ("no id", 502, "without the id of what it made"),
    ("refusal list", 502, "answered 500"),
    ("dripping", 504, "did not answer in time"),  # the district's case lock was held for as long
])
def test_a_change_refused_at_the_post_leaves_no_mirror_held_and_nothing_made_there(
        store: DistrictCaseStore, post_kind: str, status: int, said: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A hold on a case that is gone would refuse every later add; a mirror left at the post holds its footage."""
    monkeypatch.setattr(mirror, "CALL_SECONDS", 0.5)
    case = store.create("Cướp giật", "", "truc-ban")
    post = OddPost(store, case.id, ODD_ANSWERS[post_kind]) if post_kind in ODD_ANSWERS else FakePost(
        store, case.id, "deletes")
    with pytest.raises(HTTPException) as refused:
        add(store, post, case.id)
    assert refused.value.status_code == status and said in refused.value.detail
    assert post.cases == {}, "what was made at the post stayed"
    found = store.get(case.id)
    assert found is not None and found.mirrors == {}
