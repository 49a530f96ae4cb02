/**
 * An SVG bar chart drawn by hand: a chart library would be the largest file of
 * the console for one chart. Colour is never the only cue — the legend names
 * each series, every bar has a <title>, and the page offers the same figures as
 * a table.
 */
const NS = 'http://www.w3.org/2000/svg';

function s(tag, attrs = {}, text) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (text !== undefined) el.textContent = text;
  return el;
}

/** A "nice" axis maximum: 1, 2 or 5 times a power of ten. */
export function niceMax(value) {
  if (value <= 4) return 4;
  const p = 10 ** Math.floor(Math.log10(value));
  return [1, 2, 5, 10].map((m) => m * p).find((n) => n >= value);
}

/**
 * Grouped bars per time bucket.
 * @param {{label: string, title: string, values: Record<string, number>}[]} buckets
 * @param {{key: string, label: string}[]} series
 * @param {string} description what the chart shows, for screen readers
 */
export function barChart(buckets, series, description) {
  const W = 760, H = 260, left = 44, right = 12, top = 12, bottom = 36;
  const plotW = W - left - right, plotH = H - top - bottom;
  const max = niceMax(Math.max(0, ...buckets.flatMap((b) => series.map((x) => b.values[x.key]))));
  const y = (v) => top + plotH - (v / max) * plotH;
  const slot = plotW / Math.max(1, buckets.length);
  const barW = Math.max(1, (slot * 0.8) / series.length);

  const svg = s('svg', { viewBox: `0 0 ${W} ${H}`, class: 'chart', role: 'img', 'aria-labelledby': 'chart-title chart-desc' });
  svg.append(s('title', { id: 'chart-title' }, 'Logins per hour'), s('desc', { id: 'chart-desc' }, description));

  for (let i = 0; i <= 4; i++) {
    const v = (max / 4) * i;
    svg.append(s('line', { x1: left, x2: W - right, y1: y(v), y2: y(v), class: 'grid' }));
    svg.append(s('text', { x: left - 6, y: y(v) + 4, class: 'axis', 'text-anchor': 'end' }, String(Math.round(v))));
  }
  buckets.forEach((b, i) => {
    const x0 = left + i * slot + slot * 0.1;
    series.forEach((ser, j) => {
      const v = b.values[ser.key];
      const bar = s('rect', { x: x0 + j * barW, y: y(v), width: barW, height: Math.max(0, top + plotH - y(v)), class: `bar ${ser.key}` });
      bar.append(s('title', {}, `${b.title}: ${v} ${ser.label.toLowerCase()}`));
      svg.append(bar);
    });
    // Every third hour is labelled, so labels never overlap.
    if (i % 3 === 0 || i === buckets.length - 1) {
      svg.append(s('text', { x: left + i * slot + slot / 2, y: H - bottom + 16, class: 'axis', 'text-anchor': 'middle' }, b.label));
    }
  });
  svg.append(s('line', { x1: left, x2: W - right, y1: top + plotH, y2: top + plotH, class: 'baseline' }));
  return svg;
}
