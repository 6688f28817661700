// Small DOM helpers. Text always goes in as text nodes, never as HTML.

const svgNS = 'http://www.w3.org/2000/svg';

/**
 * Creates an element: h('button', {class: 'btn', onclick: fn}, 'Kick').
 * Attributes starting with "on" add listeners; dataset entries go in
 * {dataset: {…}}; false/null/undefined attributes are left out. Children
 * are nodes or text (null and false are skipped).
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  setAttributes(el, attrs);
  append(el, children);
  return el;
}

/** Creates an SVG element with the given attributes. */
export function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS(svgNS, tag);
  setAttributes(el, attrs);
  append(el, children);
  return el;
}

function setAttributes(el, attrs) {
  for (const [name, value] of Object.entries(attrs)) {
    if (value === false || value === null || value === undefined) continue;
    if (name.startsWith('on') && typeof value === 'function') {
      el.addEventListener(name.slice(2), value);
    } else if (name === 'dataset') {
      Object.assign(el.dataset, value);
    } else {
      el.setAttribute(name, value === true ? '' : String(value));
    }
  }
}

function append(el, children) {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Returns the element with the given id (throws when missing: a page bug). */
export function byId(id) {
  const el = document.getElementById(id);
  if (!el) throw new Error(`missing element #${id}`);
  return el;
}

/** Sets an element's text only when it changed (keeps selections and screen readers calm). */
export function setText(el, text) {
  const s = String(text);
  if (el.textContent !== s) el.textContent = s;
}

/** Draws a sparkline of values into a new 80×20 SVG (empty for fewer than two points). */
export function sparkline(values, label) {
  const width = 80;
  const height = 20;
  const el = svg('svg', { class: 'spark', viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': label });
  if (values.length < 2) return el;
  const max = Math.max(...values, 1);
  const step = width / (values.length - 1);
  const points = values.map((v, i) => `${(i * step).toFixed(1)},${(height - 1 - (v / max) * (height - 2)).toFixed(1)}`);
  el.append(svg('polyline', { points: points.join(' ') }));
  return el;
}
