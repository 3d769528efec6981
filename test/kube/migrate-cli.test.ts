import { afterEach, describe, expect, it, vi } from 'vitest';
import { run } from '../../src/cli/index.ts';
import { barePod, eventually, node, startHarness, type Harness } from './helpers.ts';

let h: Harness | undefined;
afterEach(async () => {
  vi.restoreAllMocks();
  await h?.stop();
  h = undefined;
});

const WEB = 'registry.example/shop/web:1.4';

/** Runs the CLI in process, capturing stdout and stderr. */
async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => ((out += String(s)), true));
  vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => ((err += String(s)), true));
  try {
    const code = await run(args);
    return { code, out, err };
  } finally {
    vi.restoreAllMocks();
  }
}

describe('polyarch migrate', () => {
  it('moves a bare pod to another platform: re-created from its source images with that variant', async () => {
    h = await startHarness({ controllers: 'all' });
    const { server, registry } = h;
    server.seed(node('amd-1', 'amd64'));
    await server.create(barePod('solo', { solo: WEB }));
    await eventually(() => (server.get('v1', 'Pod', 'solo')?.status?.['phase'] === 'Running' ? true : undefined), 15_000, 'solo running');
    server.seed(node('arm-1', 'arm64'));
    const kubeconfig = await server.writeKubeconfig();
    const r = await cli(['migrate', 'solo', '--to', 'linux/arm64', '--kubeconfig', kubeconfig, '--timeout', '60s', '-o', 'json']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const result = JSON.parse(r.out) as { moves: { pod: string; phase: string }[] };
    expect(result.moves).toEqual([expect.objectContaining({ pod: 'default/solo', phase: 'Succeeded' })]);
    const solo = await eventually(() => {
      const p = server.get('v1', 'Pod', 'solo');
      return p?.spec?.['nodeName'] === 'arm-1' ? p : undefined;
    }, 15_000, 'solo on arm-1');
    const arm = registry.answer(WEB);
    const variant = arm?.ok ? arm.value.platforms.find((x) => x.platform.architecture === 'arm64')?.image : undefined;
    expect((solo.spec?.['containers'] as { image: string }[])[0]?.image).toBe(variant);
  });

  it('refuses bad usage with exit 2 and one line', async () => {
    const r = await cli(['migrate', 'solo']);
    expect(r.code).toBe(2);
    expect(r.err.trim().split('\n')).toHaveLength(1);
    expect(r.err).toContain('--to');
  });
});
