import { Option } from 'commander';

export type OutputFormat = 'text' | 'json';

/** `--output json|text`, shared by every command (DESIGN.md, command-line contract). */
export const outputOption = (): Option =>
  new Option('-o, --output <format>', 'output format').choices(['text', 'json']).default('text');

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** A plain aligned table for human output. */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}
