// report.html in a real headless Chromium: it loads with no console error, and its
// charts and tables have data.
import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { loadScenario } from '../../src/sim/scenario/load.ts';
import { simulate } from '../../src/cli/simulate/simulate.ts';
import { renderReport } from '../../src/sim/report/html.ts';
import { openPage } from '../support/chromium.ts';

const small = fileURLToPath(new URL('../fixtures/small-scenario.yaml', import.meta.url));

describe('report.html in headless Chromium', () => {
  it('loads without console errors; every chart has data; matrix and comparison are filled', async () => {
    const r = loadScenario(small);
    if (!r.ok) throw new Error(r.errors.join('\n'));
    const report = await simulate(r.value, { seed: 9 });
    const dir = mkdtempSync(join(tmpdir(), 'polyarch-report-'));
    const file = join(dir, 'report.html');
    writeFileSync(file, renderReport(report));
    const page = await openPage(pathToFileURL(file).href);
    try {
      const info = await page.evaluate<{ charts: string; empty: string; svgs: number; paths: number; rects: number; matrixRows: number; matrixCells: number; compareCols: number; title: string; requests: number }>(`({
        charts: document.body.dataset.charts,
        empty: document.body.dataset.emptyCharts,
        svgs: document.querySelectorAll('svg.chart').length,
        paths: document.querySelectorAll('svg.chart path').length,
        rects: document.querySelectorAll('svg.chart rect').length,
        matrixRows: document.querySelectorAll('table.matrix tbody tr').length,
        matrixCells: [...document.querySelectorAll('table.matrix td.cell')].filter((td) => Number(td.dataset.value) > 0).length,
        compareCols: document.querySelectorAll('table.compare thead th').length,
        title: document.title,
        requests: performance.getEntriesByType('resource').length,
      })`);
      expect(page.errors).toEqual([]);
      expect(info.title).toBe('polyarch simulation: small');
      // 4 tracked workloads x 2 + 3 platform charts + 8 comparison bars + the migration timeline.
      expect(Number(info.charts)).toBe(info.svgs);
      expect(info.svgs).toBeGreaterThanOrEqual(15);
      expect(info.empty).toBe('0');
      expect(info.paths).toBeGreaterThan(20);
      expect(info.rects).toBeGreaterThan(10);
      expect(info.matrixRows).toBeGreaterThanOrEqual(6);
      expect(info.matrixCells).toBeGreaterThanOrEqual(6);
      expect(info.compareCols).toBe(7); // a label column and six strategies (the oracle included)
      // Self-contained: the page fetched nothing.
      expect(info.requests).toBe(0);
    } finally {
      await page.close();
    }
  }, 90_000);

  it('the harness itself sees a console error and an exception (so the check above can fail)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'polyarch-report-'));
    const file = join(dir, 'bad.html');
    writeFileSync(file, '<!doctype html><title>bad</title><script>console.error("broken chart"); undefinedFunction();</script>');
    const page = await openPage(pathToFileURL(file).href);
    try {
      expect(page.errors.some((e) => e.includes('broken chart'))).toBe(true);
      expect(page.errors.some((e) => e.includes('undefinedFunction'))).toBe(true);
    } finally {
      await page.close();
    }
  }, 60_000);
});
