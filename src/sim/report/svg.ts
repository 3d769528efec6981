/**
 * Small SVG charts written as strings (no library, no CDN): a line chart over the
 * simulated minutes and a grouped bar chart. Each chart carries `data-points` with the
 * number of values it draws, so a test in a real browser can see it has data.
 */

export const esc = (s: string): string => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);

export interface Line {
  readonly label: string;
  readonly values: readonly (number | null)[];
  readonly color: string;
  readonly dash?: boolean;
  readonly width?: number;
}

export interface LineChartOptions {
  readonly title: string;
  readonly xs: readonly number[];
  readonly lines: readonly Line[];
  readonly width?: number;
  readonly height?: number;
  readonly format?: (v: number) => string;
  readonly yMax?: number;
  /** Vertical markers (minute, label). */
  readonly markers?: readonly { readonly x: number; readonly label: string }[];
}

const fmtMinute = (m: number): string => `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}`;

function niceMax(v: number): number {
  if (v <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const k of [1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) if (k * p >= v) return k * p;
  return 10 * p;
}

/** The drawing area of a chart on two linear axes: margins, and value -> pixel maps. */
interface Plot {
  readonly W: number;
  readonly H: number;
  readonly L: number;
  readonly R: number;
  readonly T: number;
  readonly B: number;
  px(x: number): number;
  py(y: number): number;
}

function plot(size: { readonly width?: number | undefined; readonly height?: number | undefined }, defaultHeight: number, m: { L: number; R: number; T: number; B: number }, x: { min: number; max: number }, yMax: number, yCap = Infinity): Plot {
  const W = size.width ?? 560;
  const H = size.height ?? defaultHeight;
  return {
    W, H, ...m,
    px: (v) => m.L + ((v - x.min) / (x.max - x.min)) * (W - m.L - m.R),
    py: (v) => m.T + (1 - Math.min(yCap, v / yMax)) * (H - m.T - m.B),
  };
}

/** Horizontal grid lines with their value at the left, at 0, 1/4, ... 1 of yMax. */
function yGrid(p: Plot, yMax: number, label: (y: number) => string): string {
  let out = '';
  for (let i = 0; i <= 4; i++) {
    const y = p.py((yMax * i) / 4).toFixed(1);
    out += `<line x1="${p.L}" x2="${p.W - p.R}" y1="${y}" y2="${y}" class="grid"/><text x="${p.L - 6}" y="${(Number(y) + 4).toFixed(1)}" class="axis" text-anchor="end">${esc(label((yMax * i) / 4))}</text>`;
  }
  return out;
}

/** Labels under the x axis at 0, 1/4, ... 1 of the range. */
function xTicks(p: Plot, min: number, max: number, label: (x: number) => string): string {
  let out = '';
  for (let i = 0; i <= 4; i++) {
    const x = min + ((max - min) * i) / 4;
    out += `<text x="${p.px(x).toFixed(1)}" y="${p.H - p.B + 16}" class="axis" text-anchor="middle">${esc(label(x))}</text>`;
  }
  return out;
}

/** The chart's svg element: size, title, and `data-points` for the browser test. */
const svgFrame = (p: Plot, title: string, points: number, body: string): string =>
  `<svg class="chart" data-points="${points}" viewBox="0 0 ${p.W} ${p.H}" width="${p.W}" height="${p.H}" role="img" aria-label="${esc(title)}"><text x="${p.L}" y="16" class="title">${esc(title)}</text>${body}</svg>`;

export function lineChart(o: LineChartOptions): string {
  const xs = o.xs;
  const xMin = xs[0] ?? 0;
  const xMax = Math.max(xMin + 1, xs[xs.length - 1] ?? 1);
  let yMax = o.yMax ?? 0;
  if (o.yMax === undefined) for (const l of o.lines) for (const v of l.values) if (v !== null && Number.isFinite(v)) yMax = Math.max(yMax, v);
  yMax = o.yMax ?? niceMax(yMax * 1.05);
  const fmt = o.format ?? ((v: number) => String(Math.round(v * 100) / 100));
  const p = plot(o, 220, { L: 56, R: 12, T: 28, B: 44 }, { min: xMin, max: xMax }, yMax, 1.2);
  const { W, H, L, R, T, B, px, py } = p;
  let points = 0;
  const parts: string[] = [yGrid(p, yMax, fmt), xTicks(p, xMin, xMax, (x) => fmtMinute(Math.round(x)))];
  for (const m of o.markers ?? []) {
    parts.push(`<line x1="${px(m.x).toFixed(1)}" x2="${px(m.x).toFixed(1)}" y1="${T}" y2="${H - B}" class="marker"><title>${esc(m.label)}</title></line>`);
  }
  for (const l of o.lines) {
    let d = '';
    let pen = false;
    l.values.forEach((v, i) => {
      const x = xs[i];
      if (v === null || !Number.isFinite(v) || x === undefined) {
        pen = false;
        return;
      }
      d += `${pen ? 'L' : 'M'}${px(x).toFixed(1)},${py(v).toFixed(1)}`;
      pen = true;
      points++;
    });
    if (d) parts.push(`<path d="${d}" fill="none" stroke="${l.color}" stroke-width="${l.width ?? 1.6}"${l.dash ? ' stroke-dasharray="5,4"' : ''}><title>${esc(l.label)}</title></path>`);
  }
  const legend = o.lines.map((l, i) => {
    const x = L + i * ((W - L - R) / Math.max(1, o.lines.length));
    return `<g transform="translate(${x.toFixed(1)},${H - 12})"><line x1="0" x2="16" y1="-4" y2="-4" stroke="${l.color}" stroke-width="2"${l.dash ? ' stroke-dasharray="4,3"' : ''}/><text x="20" y="0" class="legend">${esc(l.label)}</text></g>`;
  }).join('');
  return svgFrame(p, o.title, points, parts.join('') + legend);
}

export interface BarGroup {
  readonly label: string;
  readonly values: readonly number[];
  /** Overrides the series colour (one bar per group, coloured by group). */
  readonly color?: string;
}

export function barChart(o: { readonly title: string; readonly series: readonly { readonly label: string; readonly color: string }[]; readonly groups: readonly BarGroup[]; readonly width?: number; readonly height?: number }): string {
  const W = o.width ?? 560;
  const H = o.height ?? 220;
  const L = 40;
  const T = 28;
  const B = 48;
  let max = 0;
  for (const g of o.groups) for (const v of g.values) max = Math.max(max, v);
  max = niceMax(max);
  const gw = (W - L - 10) / Math.max(1, o.groups.length);
  const bw = Math.max(2, (gw - 10) / Math.max(1, o.series.length));
  let points = 0;
  const parts: string[] = [];
  o.groups.forEach((g, gi) => {
    g.values.forEach((v, si) => {
      const h = (v / max) * (H - T - B);
      const x = L + gi * gw + 5 + si * bw;
      parts.push(`<rect x="${x.toFixed(1)}" y="${(H - B - h).toFixed(1)}" width="${(bw - 1).toFixed(1)}" height="${Math.max(0, h).toFixed(1)}" fill="${g.color ?? o.series[si]?.color ?? '#888'}"><title>${esc(`${o.series[si]?.label ?? ''}: ${g.label} ${Math.round(v * 100) / 100}`)}</title></rect>`);
      points++;
    });
    parts.push(`<text x="${(L + gi * gw + gw / 2).toFixed(1)}" y="${H - B + 14}" class="axis" text-anchor="middle">${esc(g.label)}</text>`);
  });
  const legend = o.series.map((s, i) => `<g transform="translate(${L + i * 110},${H - 10})"><rect x="0" y="-9" width="10" height="10" fill="${s.color}"/><text x="14" y="0" class="legend">${esc(s.label)}</text></g>`).join('');
  const frame = plot(o, H, { L, R: 10, T, B }, { min: 0, max: 1 }, max);
  return svgFrame(frame, o.title, points, `<line x1="${L}" x2="${W - 10}" y1="${H - B}" y2="${H - B}" class="grid"/>${parts.join('')}${legend}`);
}

export interface ScatterPoint {
  readonly x: number;
  readonly y: number;
  readonly label: string;
}

/** Points on two axes; a series may be joined by a line (a curve as one parameter varies). */
export function scatterChart(o: { readonly title: string; readonly xLabel: string; readonly yLabel: string; readonly series: readonly { readonly label: string; readonly color: string; readonly points: readonly ScatterPoint[]; readonly joined?: boolean }[]; readonly width?: number; readonly height?: number }): string {
  const all = o.series.flatMap((s) => s.points);
  const xMax = niceMax(Math.max(0, ...all.map((q) => q.x)));
  const yMax = niceMax(Math.max(0, ...all.map((q) => q.y)));
  const p = plot(o, 300, { L: 56, R: 16, T: 28, B: 40 }, { min: 0, max: xMax }, yMax);
  const { W, H, L, R, T, B, px, py } = p;
  const tick = (v: number): string => String(Math.round(v * 10) / 10);
  const body = o.series.map((s) => {
    const line = s.joined && s.points.length > 1 ? `<polyline fill="none" stroke="${s.color}" stroke-width="1.5" points="${s.points.map((q) => `${px(q.x).toFixed(1)},${py(q.y).toFixed(1)}`).join(' ')}"/>` : '';
    const dots = s.points.map((q) => `<circle cx="${px(q.x).toFixed(1)}" cy="${py(q.y).toFixed(1)}" r="3.5" fill="${s.color}"><title>${esc(q.label)}: ${q.x}, ${q.y}</title></circle><text class="legend" x="${(px(q.x) + 5).toFixed(1)}" y="${(py(q.y) - 5).toFixed(1)}">${esc(q.label)}</text>`).join('');
    return line + dots;
  }).join('');
  const axes = `<text class="axis" x="${(L + W - R) / 2}" y="${H - 6}" text-anchor="middle">${esc(o.xLabel)}</text><text class="axis" x="12" y="${(T + H - B) / 2}" transform="rotate(-90 12 ${(T + H - B) / 2})" text-anchor="middle">${esc(o.yLabel)}</text>`;
  return svgFrame(p, o.title, all.length, yGrid(p, yMax, tick) + xTicks(p, 0, xMax, tick) + axes + body);
}
