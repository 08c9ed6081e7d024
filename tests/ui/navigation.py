"""Reaching a section from the top bar, whether it is a link or inside "More"."""

from __future__ import annotations


def open_section(page, name: str) -> None:
    """Click the section's link, opening the More list first when it lives there."""
    link = page.get_by_test_id(f"nav-{name}")
    if not link.is_visible():
        page.get_by_test_id("nav-more").click()
    link.click()
