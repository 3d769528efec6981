/**
 * The image lookup service on a real registry, as the CLI and `serve` build it, with
 * one options object for both parts (the service's caches and deadline, the registry
 * source's endpoints, limits and retries). For the registry suites and the benchmark.
 */
import { RegistrySource, type RegistrySourceOptions } from '../../src/adapters/registry/index.ts';
import { systemClock } from '../../src/adapters/system-clock.ts';
import { ImageLookupService, type ImageLookupOptions } from '../../src/app/image-lookup.ts';

export type RegistryLookupOptions = RegistrySourceOptions & Omit<ImageLookupOptions, 'source' | 'clock' | 'maxEntries'>;

export function registryLookup(options: RegistryLookupOptions = {}): ImageLookupService {
  const clock = options.clock ?? systemClock;
  const source = new RegistrySource({ ...options, clock });
  return new ImageLookupService({ ...options, source, clock, ...(options.maxCacheEntries !== undefined ? { maxEntries: options.maxCacheEntries } : {}) });
}
