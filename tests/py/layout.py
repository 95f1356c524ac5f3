"""What a page looks like at the width it is shown at (pages.py and journeys.py).

`screenshot(d, path)` keeps the whole page as a PNG. `d.execute_script(MEASURE, phone)` returns
{"wider": px the page is wider than the screen, "problems": [text]}: elements that stick out past
the right edge of the screen outside a table that scrolls sideways, tables that scroll without a
cue (their shadow) or out of a keyboard's reach, status tags wrapped over several lines, and, on a
phone, a search form whose filters are not folded away (unless the page answers with an error) and
a `table.cards` that does not reflow into cards.
"""
import base64

# What the page looks like at the width it is shown at: the elements that stick out on the right
# (outside a sideways-scrolling table), the tables that scroll without a cue, wrapped tags, and a
# search form taller than a phone's screen allows.
MEASURE = r"""
const phone = arguments[0];
const vw = document.documentElement.clientWidth;
const out = {wider: document.documentElement.scrollWidth - vw, problems: []};
const overflowX = el => getComputedStyle(el).overflowX;
const scrolls = el => ['auto', 'scroll'].includes(overflowX(el));
const holdsTable = el => el.tagName === 'TABLE' || !!el.querySelector('table');
const name = el => {
  const cls = typeof el.className === 'string' && el.className.trim()
    ? '.' + el.className.trim().split(/\s+/).join('.') : '';
  return `<${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}${cls}> "${(el.textContent || '').trim().slice(0, 40)}"`;
};
// The nearest ancestor that scrolls or clips sideways.
const container = el => {
  for (let p = el.parentElement; p && p !== document.body; p = p.parentElement)
    if (overflowX(p) !== 'visible') return p;
  return null;
};
const sticking = [];
for (const el of document.body.querySelectorAll('*')) {
  const r = el.getBoundingClientRect();
  if (!r.width || !r.height || r.right <= vw + 1 || r.right < 0) continue;
  if (el.closest('.sr-only') || sticking.some(o => o.contains(el))) continue;
  const c = container(el);
  if (c && scrolls(c) && holdsTable(c)) continue;
  if (c && c.getBoundingClientRect().right <= vw + 1) {
    if (!scrolls(c)) continue;  // clipped on purpose (an ellipsis, a hidden default button)
    out.problems.push(`${name(el)} scrolls sideways inside ${name(c).slice(0, 60)}`);
  } else {
    out.problems.push(`${name(el)} reaches ${Math.round(r.right)} px of ${vw}`);
  }
  sticking.push(el);
}
for (const el of document.querySelectorAll('main *')) {
  if (!scrolls(el) || el.scrollWidth <= el.clientWidth + 1 || !holdsTable(el)) continue;
  if (!getComputedStyle(el).backgroundImage.includes('gradient'))
    out.problems.push(`${name(el).slice(0, 60)} scrolls sideways without a cue`);
  if (!el.hasAttribute('tabindex') && !el.querySelector('a[href], button, input, select, textarea, [tabindex]'))
    out.problems.push(`${name(el).slice(0, 60)} scrolls sideways but a keyboard cannot reach it (tabindex="0")`);
}
for (const t of document.querySelectorAll('.tag')) {
  const h = t.getBoundingClientRect().height;
  if (h > parseFloat(getComputedStyle(t).fontSize) * 2.4)
    out.problems.push(`the tag "${t.textContent.trim()}" wraps (${Math.round(h)} px high)`);
}
// A table marked to reflow into cards on a phone (`table.cards`) does, whole: it neither scrolls
// nor is wider than its place.
if (phone) for (const t of document.querySelectorAll('main table.cards')) {
  const box = t.parentElement;
  if (getComputedStyle(t).display === 'table' || t.scrollWidth > t.clientWidth + 1 || box.scrollWidth > box.clientWidth + 1)
    out.problems.push(`${name(t).slice(0, 60)} does not reflow into cards on a phone`);
}
// (A form that answers with an error shows its filters, so the wrong one can be corrected.)
if (phone && !document.querySelector('.alert.error')) for (const f of document.querySelectorAll('form[role=search]')) {
  const h = f.getBoundingClientRect().height;
  if (h > 400) out.problems.push(`the search form is ${Math.round(h)} px high on a phone`);
}
return out;
"""


def screenshot(d, path):
    """The whole page, not only the part in the window, as a PNG file."""
    shot = d.execute_cdp_cmd("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True})
    with open(path, "wb") as f:
        f.write(base64.b64decode(shot["data"]))
