import { formatPlatform, type Platform } from '../platform/platform.ts';

/**
 * `os/arch[/variant]` as image indexes are usually read: arm64's implied v8 left out
 * (`linux/arm64`), 32-bit arm keeps its variant (`linux/arm/v7`).
 */
export function displayPlatform(p: Platform): string {
  return p.architecture === 'arm64' && p.variant === 'v8' ? `${p.os}/arm64` : formatPlatform(p);
}
