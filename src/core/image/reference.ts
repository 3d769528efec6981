/**
 * Image references, following the distribution reference grammar
 * (github.com/distribution/reference, reference.go):
 *
 *   reference  := name [ ":" tag ] [ "@" digest ]
 *   name       := [domain '/'] remote-name
 *   domain     := host [':' port-number]     (a first component with '.', ':' or 'localhost')
 *   tag        := [\w][\w.-]{0,127}
 *   digest     := algorithm ':' hex
 *
 * Normalisation as Docker does it: no domain -> docker.io; a one-component
 * repository on docker.io -> library/NAME; no tag and no digest -> tag latest.
 */

import type { ParseResult } from '../platform/platform.ts';

export interface ImageReference {
  /** Registry host, with port when there is one (docker.io for Docker Hub). */
  readonly registry: string;
  readonly repository: string;
  /** undefined when the reference only has a digest. */
  readonly tag: string | undefined;
  readonly digest: string | undefined;
}

const DEFAULT_DOMAIN = 'docker.io';
const LEGACY_DOMAINS = new Set(['index.docker.io', 'registry-1.docker.io']);

const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const DOMAIN_COMPONENT = /^(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])$/;
const IPV6 = /^\[[a-fA-F0-9:]+\]$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}$/;
const SHA256 = /^sha256:[a-f0-9]{64}$/;
const SHA512 = /^sha512:[a-f0-9]{128}$/;
const MAX_NAME = 255;

function isDomain(s: string): boolean {
  const [host, port, ...rest] = s.startsWith('[') ? splitIpv6(s) : s.split(':');
  if (rest.length > 0 || host === undefined) return false;
  if (port !== undefined && !/^[0-9]+$/.test(port)) return false;
  if (IPV6.test(host)) return true;
  return host.split('.').every((c) => DOMAIN_COMPONENT.test(c));
}

function splitIpv6(s: string): string[] {
  const end = s.indexOf(']');
  const host = s.slice(0, end + 1);
  const after = s.slice(end + 1);
  if (after === '') return [host];
  if (!after.startsWith(':')) return [host, 'x', 'x'];
  return [host, after.slice(1)];
}

/** Parses and normalises an image reference; the error names what is wrong. */
export function parseReference(input: string): ParseResult<ImageReference> {
  const text = input.trim();
  const fail = (why: string): ParseResult<ImageReference> => ({ ok: false, error: `invalid image reference "${input}": ${why}` });
  if (!text) return fail('empty');
  if (/\s/.test(text)) return fail('contains whitespace');

  let rest = text;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) return fail(`malformed digest "${digest}"`);
    if (digest.startsWith('sha256:') && !SHA256.test(digest)) return fail('sha256 digest must be 64 lower-case hex characters');
    if (digest.startsWith('sha512:') && !SHA512.test(digest)) return fail('sha512 digest must be 128 lower-case hex characters');
  }

  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  if (colon > lastSlash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) return fail(`malformed tag "${tag}"`);
  }
  if (!rest) return fail('no repository name');

  const slash = rest.indexOf('/');
  let registry = DEFAULT_DOMAIN;
  let repository = rest;
  if (slash >= 0) {
    const first = rest.slice(0, slash);
    if (first.includes('.') || first.includes(':') || first === 'localhost' || first !== first.toLowerCase()) {
      if (!isDomain(first)) return fail(`malformed registry host "${first}"`);
      registry = first;
      repository = rest.slice(slash + 1);
    }
  }
  if (LEGACY_DOMAINS.has(registry)) registry = DEFAULT_DOMAIN;
  if (!repository) return fail('no repository name');
  if (repository !== repository.toLowerCase()) return fail('repository name must be lower-case');
  for (const c of repository.split('/')) {
    if (!COMPONENT.test(c)) return fail(`malformed path component "${c}"`);
  }
  if (registry === DEFAULT_DOMAIN && !repository.includes('/')) repository = `library/${repository}`;
  if (registry.length + 1 + repository.length > MAX_NAME) return fail(`name longer than ${MAX_NAME} characters`);
  if (tag === undefined && digest === undefined) tag = 'latest';
  return { ok: true, value: { registry, repository, tag, digest } };
}

/** The fully qualified form: registry/repository[:tag][@digest]. */
export function formatReference(r: ImageReference): string {
  return `${r.registry}/${r.repository}${r.tag !== undefined ? `:${r.tag}` : ''}${r.digest !== undefined ? `@${r.digest}` : ''}`;
}

/** The same repository pinned to a digest (tag dropped, as kubelet would pull it). */
export function pinReference(r: ImageReference, digest: string): string {
  return `${r.registry}/${r.repository}@${digest}`;
}

/** The reference without tag or digest. */
export function repositoryName(r: ImageReference): string {
  return `${r.registry}/${r.repository}`;
}
