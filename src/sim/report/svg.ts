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

export function lineChart(o: LineChartOptions): string {
  const W = o.width ?? 560;
  const H = o.height ?? 220;
  const L = 56;
  const R = 12;
  const T = 28;
  const B = 44;
  const xs = o.xs;
  const xMin = xs[0] ?? 0;
  const xMax = Math.max(xMin + 1, xs[xs.length - 1] ?? 1);
  let yMax = o.yMax ?? 0;
  if (o.yMax === undefined) for (const l of o.lines) for (const v of l.values) if (v !== null && Number.isFinite(v)) yMax = Math.max(yMax, v);
  yMax = o.yMax ?? niceMax(yMax * 1.05);
  const fmt = o.format ?? ((v: number) => String(Math.round(v * 100) / 100));
  const px = (x: number): number => L + ((x - xMin) / (xMax - xMin)) * (W - L - R);
  const py = (y: number): number => T + (1 - Math.min(1.2, y / yMax)) * (H - T - B);
  let points = 0;
  const parts: string[] = [];
  for (let i = 0; i <= 4; i++) {
    const y = (yMax * i) / 4;
    parts.push(`<line x1="${L}" x2="${W - R}" y1="${py(y).toFixed(1)}" y2="${py(y).toFixed(1)}" class="grid"/>`);
    parts.push(`<text x="${L - 6}" y="${(py(y) + 4).toFixed(1)}" class="axis" text-anchor="end">${esc(fmt(y))}</text>`);
  }
  for (let i = 0; i <= 4; i++) {
    const x = xMin + ((xMax - xMin) * i) / 4;
    parts.push(`<text x="${px(x).toFixed(1)}" y="${H - B + 16}" class="axis" text-anchor="middle">${fmtMinute(Math.round(x))}</text>`);
  }
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
  return `<svg class="chart" data-points="${points}" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${esc(o.title)}"><text x="${L}" y="16" class="title">${esc(o.title)}</text>${parts.join('')}${legend}</svg>`;
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
  return `<svg class="chart" data-points="${points}" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${esc(o.title)}"><text x="${L}" y="16" class="title">${esc(o.title)}</text><line x1="${L}" x2="${W - 10}" y1="${H - B}" y2="${H - B}" class="grid"/>${parts.join('')}${legend}</svg>`;
}

export interface ScatterPoint {
  readonly x: number;
  readonly y: number;
  readonly label: string;
}

/** Points on two axes; a series may be joined by a line (a curve as one parameter varies). */
export function scatterChart(o: { readonly title: string; readonly xLabel: string; readonly yLabel: string; readonly series: readonly { readonly label: string; readonly color: string; readonly points: readonly ScatterPoint[]; readonly joined?: boolean }[]; readonly width?: number; readonly height?: number }): string {
  const W = o.width ?? 560;
  const H = o.height ?? 300;
  const L = 56;
  const R = 16;
  const T = 28;
  const B = 40;
  const all = o.series.flatMap((s) => s.points);
  const xMax = niceMax(Math.max(0, ...all.map((p) => p.x)));
  const yMax = niceMax(Math.max(0, ...all.map((p) => p.y)));
  const px = (x: number): number => L + (x / xMax) * (W - L - R);
  const py = (y: number): number => H - B - (y / yMax) * (H - T - B);
  const ticks = [0, 0.25, 0.5, 0.75, 1];
  const grid = ticks.map((k) => `<line class="grid" x1="${L}" x2="${W - R}" y1="${py(k * yMax)}" y2="${py(k * yMax)}"/><text class="axis" x="${L - 4}" y="${py(k * yMax) + 3}" text-anchor="end">${Math.round(k * yMax * 10) / 10}</text><text class="axis" x="${px(k * xMax)}" y="${H - B + 14}" text-anchor="middle">${Math.round(k * xMax * 10) / 10}</text>`).join('');
  const body = o.series.map((s) => {
    const line = s.joined && s.points.length > 1 ? `<polyline fill="none" stroke="${s.color}" stroke-width="1.5" points="${s.points.map((p) => `${px(p.x).toFixed(1)},${py(p.y).toFixed(1)}`).join(' ')}"/>` : '';
    const dots = s.points.map((p) => `<circle cx="${px(p.x).toFixed(1)}" cy="${py(p.y).toFixed(1)}" r="3.5" fill="${s.color}"><title>${esc(p.label)}: ${p.x}, ${p.y}</title></circle><text class="legend" x="${(px(p.x) + 5).toFixed(1)}" y="${(py(p.y) - 5).toFixed(1)}">${esc(p.label)}</text>`).join('');
    return line + dots;
  }).join('');
  return `<svg class="chart" data-points="${all.length}" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" xmlns="http://www.w3.org/2000/svg"><text class="title" x="${L}" y="16">${esc(o.title)}</text>${grid}<text class="axis" x="${(L + W - R) / 2}" y="${H - 6}" text-anchor="middle">${esc(o.xLabel)}</text><text class="axis" x="12" y="${(T + H - B) / 2}" transform="rotate(-90 12 ${(T + H - B) / 2})" text-anchor="middle">${esc(o.yLabel)}</text>${body}</svg>`;
}
