/** RFC 3339 time with second precision, as metav1.Time is written (`2026-01-05T06:00:00Z`). */
export const rfc3339 = (ms: number): string => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
