"""What every buyer page must pass in a real browser: axe-core, tap target sizes, no sideways
scroll, no request to anyone but us."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pytest

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"

# Everything a thumb can hit. A radio counts through its label, which is the visible target.
TAP_TARGETS_JS = """() => {
  const bad = [];
  const seen = (el) =>
    !el.closest('.hp, [hidden], dialog:not([open])') && el.getClientRects().length;
  for (const el of document.querySelectorAll(
      'a[href], button, summary, textarea, select, input:not([type=hidden]), label.choice')) {
    if (!seen(el)) continue;
    if (el.type === 'radio' || el.type === 'checkbox') {
      if (!el.closest('label.choice')) bad.push(el.name + ': a radio outside a tap-sized label');
      continue;
    }
    const r = el.getBoundingClientRect();
    if (r.width < 44 || r.height < 44) {
      bad.push(`${el.tagName.toLowerCase()} "${el.textContent.trim().slice(0, 30)}" ` +
               `${Math.round(r.width)}x${Math.round(r.height)}`);
    }
  }
  return bad;
}"""


def serious_axe_violations(page) -> list[str]:
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run `make assets` (npm ci) first")
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        # Evaluated over the DevTools protocol: a <script> tag would be refused by the
        # Content-Security-Policy, as any script of another origin must be.
        page.evaluate(AXE.read_text())
    return page.evaluate("""async () => {
      const result = await axe.run(document, {resultTypes: ['violations']});
      return result.violations
        .filter(v => v.impact === 'serious' || v.impact === 'critical')
        .map(v => `${v.id} (${v.impact}): ${v.nodes.map(n => n.target.join(' ')).join(', ')}`);
    }""")


def small_tap_targets(page) -> list[str]:
    return page.evaluate(TAP_TARGETS_JS)


def scrolls_sideways(page) -> bool:
    return page.evaluate(
        "document.documentElement.scrollWidth > document.documentElement.clientWidth"
    )


def assert_page_is_good(page) -> None:
    """axe-core finds nothing serious, every tap target is at least 44×44, no sideways scroll."""
    where = page.url
    assert serious_axe_violations(page) == [], where
    assert small_tap_targets(page) == [], where
    assert not scrolls_sideways(page), where


def record_hosts(page) -> set[str]:
    """Every host the page talks to, filled in as requests go out."""
    hosts: set[str] = set()
    page.on("request", lambda request: hosts.add(urlsplit(request.url).netloc))
    return hosts


# WCAG 2.0, 2.1 and 2.2, levels A and AA: what the staff pages must pass, every rule of it.
WCAG_AA_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


def _load_axe(page) -> None:
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run `make assets` (npm ci) first")
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text())


def wcag_violations(page) -> list[str]:
    """Every axe-core violation of a WCAG 2.0–2.2 A/AA rule, whatever its impact."""
    _load_axe(page)
    return page.evaluate(
        """async (tags) => {
      const result = await axe.run(document, {
        runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']});
      return result.violations.map(v =>
        `${v.id} (${v.impact}): ${v.nodes.map(n => n.target.join(' ')).join(', ')}`);
    }""",
        WCAG_AA_TAGS,
    )


def duplicate_ids(page) -> list[str]:
    """Ids used by more than one element: a label or aria reference would find the first."""
    return page.evaluate("""() => {
      const seen = {};
      for (const el of document.querySelectorAll('[id]')) seen[el.id] = (seen[el.id] || 0) + 1;
      return Object.keys(seen).filter(id => seen[id] > 1);
    }""")


def dangling_references(page) -> list[str]:
    """aria-describedby, aria-labelledby, aria-controls or a label's for naming an id that
    is not on the page: the description or name it promises is never read."""
    return page.evaluate("""() => {
      const bad = [];
      for (const attr of ['aria-describedby', 'aria-labelledby', 'aria-controls', 'for']) {
        for (const el of document.querySelectorAll(`[${attr}]`)) {
          for (const id of el.getAttribute(attr).split(/\\s+/).filter(Boolean)) {
            if (!document.getElementById(id))
              bad.push(`${attr}="${id}" on ${el.tagName.toLowerCase()}`);
          }
        }
      }
      return bad;
    }""")


def staff_page_problems(page) -> list[str]:
    """What fails on a staff page: any WCAG A/AA violation, any duplicate id, any reference
    to an id that is not there."""
    return [
        *wcag_violations(page),
        *(f"duplicate id: {i}" for i in duplicate_ids(page)),
        *dangling_references(page),
    ]
