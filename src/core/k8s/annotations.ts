/**
 * The names polyarch writes on pods, and the one reading of the record of original
 * images. Every part of polyarch (scheduler, extender, webhook, gate controller,
 * migrator) imports them from here.
 */

/** The architecture-neutral images a pod was written with, `{container name: image}` as JSON. */
export const SOURCE_IMAGES_ANNOTATION = 'polyarch.io/source-images';
/** The platform chosen for the pod (`linux/arm64/v8`). */
export const PLATFORM_ANNOTATION = 'polyarch.io/platform';
/** One line: why the pod was placed or constrained as it was. */
export const DECISION_ANNOTATION = 'polyarch.io/decision';
/** The scheduling gate admission adds while a pod's images are being looked up. */
export const PLATFORM_GATE = 'polyarch.io/platform';
/** Label a pod (or its template) sets to `"false"` to be left alone. */
export const OPT_OUT_LABEL = 'polyarch.io/inject';

/** The recorded originals, or undefined when absent or not the expected `{container: image}` JSON object. */
export function parseSourceImages(text: string | null | undefined): Record<string, string> | undefined {
  if (!text) return undefined;
  try {
    const v: unknown = JSON.parse(text);
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined;
    const out: Record<string, string> = {};
    for (const [k, x] of Object.entries(v)) if (typeof x === 'string') out[k] = x;
    return out;
  } catch {
    return undefined;
  }
}

/** The original references recorded on a pod placed before ({} when none are). */
export function sourceImages(pod: { readonly metadata?: { readonly annotations?: Readonly<Record<string, string>> | null } | null }): Readonly<Record<string, string>> {
  return parseSourceImages(pod.metadata?.annotations?.[SOURCE_IMAGES_ANNOTATION]) ?? {};
}

/** The annotation value for `{container name: image}` pairs (names are unique across containers and init containers). */
export function sourceImagesValue(images: readonly { readonly container: string; readonly image: string }[]): string {
  const m: Record<string, string> = {};
  for (const i of images) m[i.container] = i.image;
  return JSON.stringify(m);
}
