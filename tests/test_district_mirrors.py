"""A district case's mirrors at the posts (nvr/district/mirror.py) against a small fake post: the order of what the
district writes and what it asks of the post. The real posts are in tests/test_district.py."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx

from nvr.district.case_store import DistrictCaseStore
from nvr.district.mirror import Mirrors, Wanted
from storage.index import RecordingIndex

STATION = "phuong-a"


class FakePost:
    """A post's case API as the district uses it. `on_made` runs once a case is made (an officer's hand)."""

    def __init__(self, store: DistrictCaseStore, case_id: int) -> None:
        self.store, self.case_id = store, case_id
        self.cases: dict[int, str] = {}  # id -> status
        self.unheld_items = 0  # items put into a mirror the district did not hold yet
        self.closed_by_officer = False

    def handle(self, request: httpx.Request) -> httpx.Response:
        path, method = request.url.path, request.method
        if method == "POST" and path == "/api/cases":
            case = len(self.cases) + 1
            self.cases[case] = "open"
            return httpx.Response(201, json={"id": case, "status": "open"})
        case = int(path.split("/")[3])
        if method == "POST" and path.endswith("/items"):
            held = self.store.get(self.case_id)
            if held is None or held.mirrors.get(STATION) != case:
                self.unheld_items += 1
            return httpx.Response(201, json={"id": 100 + case})
        if method == "GET":
            if not self.closed_by_officer:  # between the making and the district's hold, an officer closed it
                self.cases[case], self.closed_by_officer = "closed", True
            return httpx.Response(200, json={"id": case, "status": self.cases[case]})
        if method == "PATCH":
            self.cases[case] = json.loads(request.content)["status"]
            return httpx.Response(200, json={"id": case, "status": self.cases[case]})
        return httpx.Response(404)


def test_a_mirror_is_held_before_it_holds_footage_and_an_officer_s_close_in_between_is_undone(tmp_path: Path) -> None:
    index = RecordingIndex(f"sqlite:///{tmp_path / 'catalog.db'}", "district")
    store = DistrictCaseStore(index.engine)
    case = store.create("Cướp giật", "", "truc-ban")
    post = FakePost(store, case.id)

    async def add() -> None:
        async with httpx.AsyncClient(transport=httpx.MockTransport(post.handle), base_url="http://post") as client:
            mirrors = Mirrors({STATION: client}, ZoneInfo("Asia/Ho_Chi_Minh"), store)
            held = await mirrors.add(case, [Wanted(STATION, "cong", 1_000, 61_000, "")])
            assert [item.post_item_id for item in held] == [101]

    asyncio.run(add())
    assert post.unheld_items == 0, "footage was put into a mirror the post could still let its officers close"
    assert post.closed_by_officer and post.cases == {1: "open"}, "the officer's close was not undone"
    found = store.get(case.id)
    assert found is not None and found.mirrors == {STATION: 1}
    index.close()
