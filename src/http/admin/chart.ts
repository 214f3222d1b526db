import { html } from 'hono/html';
import { currencyExponent } from '../../money.js';
import { addMonths } from '../../time/periods.js';
import { axisAmount, money, periodLabel, shortMonth } from './views/format.js';
import type { Html } from './views/layout.js';

/** One bar: amounts in integer minor units of one currency. */
export interface SeriesPoint {
  period: string;
  paidMinor: number;
  openMinor: number;
  expiredMinor: number;
}

/** Colours shared by the chart, its legend and the summary cards. */
export const SERIES = [
  { key: 'paidMinor', name: 'paid', label: 'Paid', color: '#2f8f5b' },
  { key: 'openMinor', name: 'open', label: 'Open', color: '#e0a526' },
  { key: 'expiredMinor', name: 'expired', label: 'Expired', color: '#c2452d' },
] as const;

const W = 560;
const H = 250;
const M = { left: 68, right: 12, top: 36, bottom: 40 };
const PLOT_W = W - M.left - M.right;
const PLOT_H = H - M.top - M.bottom;

/**
 * A round axis top and step (both integer minor units) covering `max`, with about four gridlines.
 * `minTop` keeps an empty chart from collapsing to a zero-height scale.
 */
function niceScale(max: number, minTop: number): { top: number; step: number } {
  const target = Math.max(max, minTop, 1);
  const rough = target / 4;
  const magnitude = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= rough) ?? 10 * magnitude;
  // Steps below one minor unit cannot be labelled exactly; money axes tick on whole minor units.
  const whole = Math.max(1, Math.round(step));
  return { top: Math.ceil(target / whole) * whole, step: whole };
}

/** `count` consecutive periods ending with `until`, oldest first. */
export function lastPeriods(until: string, count: number): string[] {
  return Array.from({ length: count }, (_, i) => addMonths(until, i - count + 1));
}

/** Puts the rows of one currency on the full period axis; months without charges get zero bars. */
export function fillSeries(periods: string[], rows: readonly SeriesPoint[]): SeriesPoint[] {
  const byPeriod = new Map(rows.map((r) => [r.period, r]));
  return periods.map((period) => byPeriod.get(period) ?? { period, paidMinor: 0, openMinor: 0, expiredMinor: 0 });
}

// Pixel geometry only: amounts become floats here to place rectangles, never to compute money.
const yOf = (value: number, top: number) => M.top + PLOT_H - (value / top) * PLOT_H;
const px = (n: number) => Math.round(n * 10) / 10;

function legend(): Html {
  let x = M.left;
  const items = SERIES.map((s) => {
    const item = html`<rect x="${x}" y="10" width="11" height="11" rx="2" fill="${s.color}"/><text x="${x + 16}" y="20" class="lg">${s.label}</text>`;
    x += 16 + s.label.length * 7 + 18;
    return item;
  });
  return html`<g>${items}</g>`;
}

function yAxis(currency: string, top: number, step: number): Html {
  const ticks: Html[] = [];
  for (let v = 0; v <= top; v += step) {
    const y = px(yOf(v, top));
    ticks.push(html`<line x1="${M.left}" x2="${W - M.right}" y1="${y}" y2="${y}" stroke="${v === 0 ? '#98a2b3' : '#e4e7ec'}"/>
<text x="${M.left - 8}" y="${y + 4}" text-anchor="end" class="ax">${axisAmount(v, currency)}</text>`);
  }
  return html`<g>${ticks}</g><text x="${M.left - 8}" y="${M.top - 12}" text-anchor="end" class="ax">${currency}</text>`;
}

function bar(point: SeriesPoint, index: number, band: number, top: number, currency: string): Html {
  const width = px(band * 0.62);
  const x = px(M.left + index * band + (band - width) / 2);
  let base = 0;
  const segments = SERIES.map((s) => {
    const value = point[s.key];
    if (value <= 0) return '';
    const y1 = yOf(base + value, top);
    const y0 = yOf(base, top);
    base += value;
    return html`<rect class="seg seg-${s.name}" x="${x}" y="${px(y1)}" width="${width}" height="${px(Math.max(y0 - y1, 0.5))}" fill="${s.color}"><title>${periodLabel(point.period)} · ${s.name} ${money(value, currency)}</title></rect>`;
  });
  const cx = px(M.left + index * band + band / 2);
  const month = point.period.slice(5, 7);
  const year =
    index === 0 || month === '01' ? html`<tspan x="${cx}" dy="14" class="yr">${point.period.slice(0, 4)}</tspan>` : '';
  return html`<g>${segments}<text x="${cx}" y="${H - M.bottom + 16}" text-anchor="middle" class="ax">${shortMonth(point.period)}${year}</text></g>`;
}

/**
 * A stacked bar chart of paid / open / expired amounts per period for one currency, as inline SVG
 * (no script, no library): axis in the currency's units, one bar per period, a legend, and a
 * tooltip per segment with the exact amount.
 */
export function collectionChart(currency: string, points: readonly SeriesPoint[]): Html {
  const totals = points.map((p) => p.paidMinor + p.openMinor + p.expiredMinor);
  const { top, step } = niceScale(Math.max(0, ...totals), 10 ** currencyExponent(currency));
  const band = PLOT_W / Math.max(points.length, 1);
  const label = `${currency} collection, ${points.length} periods: paid, open and expired amounts`;
  return html`<svg class="collection-chart" data-currency="${currency}" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${label}" xmlns="http://www.w3.org/2000/svg">
<style>.ax{font-size:11px;fill:#667085}.yr{font-size:10px;fill:#98a2b3}.lg{font-size:12px;fill:#344054}</style>
${legend()}${yAxis(currency, top, step)}${points.map((p, i) => bar(p, i, band, top, currency))}
</svg>`;
}
