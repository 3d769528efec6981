import { describe, expect, it } from 'vitest';
import { parseImageCatalog } from './catalog.ts';

const D1 = `sha256:${'a'.repeat(64)}`;
const D2 = `sha256:${'b'.repeat(64)}`;
const inspectOut = (ref: string) => ({
  reference: ref,
  source: 'index',
  platforms: [
    { os: 'linux', architecture: 'amd64', image: `docker.io/library/nginx@${D1}` },
    { os: 'linux', architecture: 'arm64', variant: 'v8', image: `docker.io/library/nginx@${D2}` },
  ],
  warnings: [],
});

describe('image catalog', () => {
  it('accepts concatenated `polyarch inspect -o json` outputs and normalises references', async () => {
    const text = `${JSON.stringify(inspectOut('docker.io/library/nginx:1.25'), null, 2)}\n${JSON.stringify(inspectOut('docker.io/library/nginx:1.26'))}\n`;
    const r = parseImageCatalog(text, 'images.json');
    if (!r.ok) throw new Error(r.error);
    expect(r.value.references()).toEqual(['docker.io/library/nginx:1.25', 'docker.io/library/nginx:1.26']);
    const hit = r.value.answer('nginx:1.25');
    expect(hit.ok && hit.value.platforms.map((p) => [p.platform.architecture, p.digest])).toEqual([['amd64', D1], ['arm64', D2]]);
    const miss = r.value.answer('nginx:1.27');
    expect(!miss.ok && miss.error.kind).toBe('not-found');
    expect(!miss.ok && miss.error.message).toContain('images.json');
  });

  it('accepts a JSON array and the hand-written map with per-arch tags', () => {
    expect(parseImageCatalog(JSON.stringify([inspectOut('nginx:1.25')]), 'x').ok).toBe(true);
    const yaml = `images:
  shop/app:2.1:
    - platform: linux/amd64
      digest: ${D1}
    - platform: linux/loong64
      image: shop/app:2.1-loong64@${D2}
`;
    const r = parseImageCatalog(yaml, 'images.yaml');
    if (!r.ok) throw new Error(r.error);
    const e = r.value.answer('docker.io/shop/app:2.1');
    expect(e.ok && e.value.platforms.map((p) => p.image)).toEqual([`docker.io/shop/app@${D1}`, `docker.io/shop/app@${D2}`]);
  });

  it.each([
    [`images:\n  a:1:\n    - platform: linux/sparc\n      digest: ${D1}\n`, 'images["a:1"][0].platform'],
    ['images:\n  a:1:\n    - platform: linux/amd64\n', 'images["a:1"][0]: give digest or image'],
    ['images:\n  a:1:\n    - platform: linux/amd64\n      digest: sha256:short\n', 'images.a:1[0].digest'],
    [`images:\n  a:1:\n    - {platform: linux/amd64, digest: ${D1}}\n    - {platform: amd64, digest: ${D2}}\n`, 'listed twice'],
    [JSON.stringify({ reference: 'x:1', platforms: [{ os: 'linux' }] }), 'platforms[0].architecture'],
    [JSON.stringify({ reference: 'x:1', platforms: [{ os: 'linux', architecture: 'amd64', image: 'x:1' }] }), 'has no digest'],
    ['{"reference": "x:1", "platforms": [', 'images.json'],
  ])('refuses bad entries, naming them: %#', (text, message) => {
    const r = parseImageCatalog(text, 'images.json');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toContain(message);
  });
});
