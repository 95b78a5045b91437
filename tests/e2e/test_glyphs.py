"""Chinese reads as Simplified Chinese, and nothing is fetched from outside the app.

Without a Simplified Chinese face named first, Chromium draws Han characters with the
Japanese forms of Noto CJK (直, 关, 令, 角 look different); the app's font stack names one.
The favicon was a ``:material/…:`` icon, which Streamlit fetches from a font CDN that an
offline reader cannot reach.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from tests.e2e.helpers import App, open_page

pytestmark = pytest.mark.e2e

# The first element under ``root`` whose own text holds a Han character.
_FIRST_HAN = """root => {
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    let node;
    while ((node = walker.nextNode())) {
        if (/[\\u4e00-\\u9fff]/.test(node.textContent)) return node.parentElement;
    }
    return null;
}"""
PLACES = {
    "a card": "[data-testid='stMain']",
    "a chart": ".js-plotly-plot",
    "the sidebar": "[data-testid='stSidebar']",
}


def _faces_drawing_han(page: Page, selector: str) -> list[str]:
    """The font families Chromium used for the first Han text under ``selector``."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")
    cdp.send("DOM.getDocument", {"depth": -1})
    expression = f"({_FIRST_HAN})(document.querySelector({selector!r}))"
    element = cdp.send("Runtime.evaluate", {"expression": expression})["result"]
    assert "objectId" in element, f"no Chinese text under {selector}"
    node = cdp.send("DOM.requestNode", {"objectId": element["objectId"]})
    fonts = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node["nodeId"]})["fonts"]
    return [font["familyName"] for font in fonts]


@pytest.mark.parametrize("place", list(PLACES))
def test_chinese_is_drawn_with_simplified_chinese_forms(page: Page, app: App, place: str) -> None:
    open_page(page, app("/"))
    faces = _faces_drawing_han(page, PLACES[place])
    han_faces = [face for face in faces if "CJK" in face or "SC" in face or "Han" in face]
    assert han_faces, faces
    assert all("JP" not in face and "KR" not in face for face in faces), faces
    assert any(face.endswith(" SC") for face in han_faces), faces


@pytest.mark.parametrize("path", ["/", "/posts", "/topics", "/sql", "/data"])
def test_a_page_loads_nothing_from_outside_the_app(page: Page, app: App, path: str) -> None:
    outside: list[str] = []
    page.on("request", lambda request: outside.append(request.url))
    open_page(page, app(path))
    assert [url for url in outside if not url.startswith(app.url)] == []
