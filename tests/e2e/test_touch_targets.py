"""The inspector's tablet (800×1280): every control on the visit form and the
task list is at least 44 px tall to tap, links in a line of text included."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from registry.tables import Lks
from tests.e2e.conftest import sign_in
from tests.inspections.visit_world import make_visit_world

TABLET = {"width": 800, "height": 1280}


@pytest.fixture
def world(client, call, make_user, make_lks):
    return make_visit_world(client, call, make_user, make_lks)


def assert_tall_enough(page, selectors: list[str]) -> None:
    for selector in selectors:
        target = page.locator(selector).first
        expect(target).to_be_visible()
        box = target.bounding_box()
        assert box and box["height"] >= 44, (selector, box)


def test_visit_form_and_task_list_targets_are_44px(new_page, world, call):
    call(Lks.update({Lks.phone: "021 5551234"}).where(Lks.id == world.lks["id"]).run)
    page = new_page(viewport=TABLET, locale="id-ID", has_touch=True)
    sign_in(page, "agus")
    page.goto("/tasks")
    assert_tall_enough(page, ["label:has(input[name=mine])"])
    page.goto(f"/tasks/{world.task['id']}/visit")
    page.locator("#q-A1 .answer-no").click()  # a key item "no": a finding opens, with its buttons
    assert_tall_enough(page, [
        "#q-A1 .add-finding", "#q-A1 .remove-finding", "button[data-clear] >> visible=true",
        ".page-head a[href^='tel:']", ".page-head a[target=_blank]", "#visit-app > p > a[href^='/tasks/']",
    ])
