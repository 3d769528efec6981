/** `--listen ADDR` (or the flag named): `:8443`, `0.0.0.0:8443`, `127.0.0.1:0`, `[::1]:8443`, or a bare port. */
export function parseListen(addr: string, flag = '--listen'): { ok: true; host: string | undefined; port: number } | { ok: false; error: string } {
  const text = addr.trim();
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]*))?:?(\d+)$/.exec(text.includes(':') ? text : `:${text}`);
  const port = Number(m?.[3]);
  if (!m || !Number.isInteger(port) || port < 0 || port > 65535) return { ok: false, error: `${flag}: "${addr}" is not HOST:PORT (e.g. :8443, 127.0.0.1:8443, [::1]:8443)` };
  const host = m[1] ?? (m[2] || undefined);
  return { ok: true, host, port };
}
