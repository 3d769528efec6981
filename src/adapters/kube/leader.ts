import { CoordinationV1Api, V1MicroTime, type KubeConfig, type V1Lease } from '@kubernetes/client-node';
import type { Clock } from '../../ports/clock.ts';
import type { Logger } from '../../ports/logger.ts';
import { apiFailure, isConflict, isNotFound } from './errors.ts';
import { requestOptions } from './request-options.ts';

/**
 * Leader election on a coordination.k8s.io/v1 Lease, as client-go's leaderelection
 * package does it (k8s.io/client-go/tools/leaderelection/leaderelection.go):
 * - a candidate takes the Lease when it is free or when its record has not changed for
 *   leaseDuration as observed on *our* clock (never comparing clocks across machines);
 * - every write carries the resourceVersion read, so two candidates racing get one
 *   success and one 409 Conflict;
 * - the leader renews every retryPeriod and steps down when it could not renew within
 *   renewDeadline, before anyone else may consider the Lease expired;
 * - on a clean stop it releases the Lease (holder cleared) so a standby takes over at once.
 */
export interface LeaderElectionOptions {
  readonly namespace: string;
  readonly name: string;
  readonly identity: string;
  /** client-go defaults: 15 s, 10 s, 2 s. */
  readonly leaseDurationMs?: number;
  readonly renewDeadlineMs?: number;
  readonly retryPeriodMs?: number;
  readonly clock: Clock;
  readonly log: Logger;
}

export interface LeaderCallbacks {
  /** Called when this candidate becomes leader; `signal` aborts when it stops leading. */
  onStartedLeading(signal: AbortSignal): void;
  onStoppedLeading(): void;
  onNewLeader?(identity: string): void;
}

export const LEADER_DEFAULTS = { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 } as const;

export class LeaderElector {
  private readonly api: CoordinationV1Api;
  private readonly leaseDurationMs: number;
  private readonly renewDeadlineMs: number;
  private readonly retryPeriodMs: number;
  private observed: { holder: string; resourceVersion: string; renewTime: string; at: number } | undefined;
  private leading = false;
  private lastLeader = '';

  constructor(kc: KubeConfig, private readonly options: LeaderElectionOptions) {
    this.api = kc.makeApiClient(CoordinationV1Api);
    this.leaseDurationMs = options.leaseDurationMs ?? LEADER_DEFAULTS.leaseDurationMs;
    this.renewDeadlineMs = options.renewDeadlineMs ?? LEADER_DEFAULTS.renewDeadlineMs;
    this.retryPeriodMs = options.retryPeriodMs ?? LEADER_DEFAULTS.retryPeriodMs;
    if (!(this.leaseDurationMs > this.renewDeadlineMs && this.renewDeadlineMs > this.retryPeriodMs)) {
      throw new Error('leader election: want leaseDuration > renewDeadline > retryPeriod');
    }
  }

  get isLeader(): boolean {
    return this.leading;
  }

  get leader(): string {
    return this.lastLeader;
  }

  /** Runs until `signal` aborts: acquire, lead, and on losing the Lease try again. */
  async run(callbacks: LeaderCallbacks, signal: AbortSignal): Promise<void> {
    const { clock, log } = this.options;
    while (!signal.aborted) {
      // Acquire.
      while (!signal.aborted && !(await this.tryAcquireOrRenew(callbacks))) {
        await clock.sleep(this.retryPeriodMs, signal).catch(() => undefined);
      }
      if (signal.aborted) break;
      this.leading = true;
      log.info({ lease: `${this.options.namespace}/${this.options.name}`, identity: this.options.identity }, 'became leader');
      const leadership = new AbortController();
      callbacks.onStartedLeading(leadership.signal);
      // Renew until a renewal does not succeed within the deadline.
      let lastRenew = clock.now();
      while (!signal.aborted) {
        await clock.sleep(this.retryPeriodMs, signal).catch(() => undefined);
        if (signal.aborted) break;
        if (await this.tryAcquireOrRenew(callbacks)) {
          lastRenew = clock.now();
        } else if (clock.now() - lastRenew >= this.renewDeadlineMs || (this.lastLeader !== '' && this.lastLeader !== this.options.identity)) {
          log.warn({ identity: this.options.identity, leader: this.lastLeader }, 'lost leadership');
          break;
        }
      }
      this.leading = false;
      leadership.abort();
      callbacks.onStoppedLeading();
    }
    await this.release();
  }

  /** One attempt (client-go tryAcquireOrRenew); true when we hold the Lease after it. */
  private async tryAcquireOrRenew(callbacks: LeaderCallbacks): Promise<boolean> {
    const { namespace, name, identity, clock, log } = this.options;
    const now = clock.now();
    const nowTime = new V1MicroTime(now);
    const leaseDurationSeconds = Math.max(1, Math.round(this.leaseDurationMs / 1000));
    let lease: V1Lease;
    try {
      lease = await this.api.readNamespacedLease({ name, namespace }, this.req());
    } catch (err) {
      const f = apiFailure(err);
      if (!isNotFound(f)) {
        log.warn({ lease: `${namespace}/${name}`, status: f.status, error: f.message }, 'leader election: cannot read lease');
        return false;
      }
      try {
        await this.api.createNamespacedLease({
          namespace,
          body: {
            apiVersion: 'coordination.k8s.io/v1',
            kind: 'Lease',
            metadata: { name, namespace },
            spec: { holderIdentity: identity, leaseDurationSeconds, acquireTime: nowTime, renewTime: nowTime, leaseTransitions: 0 },
          },
        }, this.req());
        this.noteLeader(identity, callbacks);
        return true;
      } catch (createErr) {
        const cf = apiFailure(createErr);
        log.debug({ status: cf.status, error: cf.message }, 'leader election: create lost the race');
        return false;
      }
    }
    const spec = lease.spec ?? {};
    const holder = spec.holderIdentity ?? '';
    const renewTime = spec.renewTime ? new Date(spec.renewTime).toISOString() : '';
    const rv = lease.metadata?.resourceVersion ?? '';
    // The record changed since we last looked: restart the expiry clock from now.
    if (!this.observed || this.observed.holder !== holder || this.observed.renewTime !== renewTime) {
      this.observed = { holder, resourceVersion: rv, renewTime, at: now };
    }
    this.noteLeader(holder, callbacks);
    const heldByOther = holder !== '' && holder !== identity;
    const leaseMs = (spec.leaseDurationSeconds ?? leaseDurationSeconds) * 1000;
    if (heldByOther && this.observed.at + leaseMs > now) return false;

    const transitions = (spec.leaseTransitions ?? 0) + (holder === identity ? 0 : 1);
    const body: V1Lease = {
      ...lease,
      spec: {
        ...spec,
        holderIdentity: identity,
        leaseDurationSeconds,
        acquireTime: holder === identity && spec.acquireTime ? new V1MicroTime(new Date(spec.acquireTime).getTime()) : nowTime,
        renewTime: nowTime,
        leaseTransitions: transitions,
      },
    };
    try {
      const updated = await this.api.replaceNamespacedLease({ name, namespace, body }, this.req());
      this.observed = {
        holder: identity,
        resourceVersion: updated.metadata?.resourceVersion ?? '',
        renewTime: nowTime.toISOString(),
        at: now,
      };
      this.noteLeader(identity, callbacks);
      return true;
    } catch (err) {
      const f = apiFailure(err);
      if (isConflict(f)) log.debug({ lease: `${namespace}/${name}` }, 'leader election: lease changed under us');
      else log.warn({ status: f.status, error: f.message }, 'leader election: cannot update lease');
      return false;
    }
  }

  /** A Lease request may not outlive the retry period (client-go bounds each by the renew deadline). */
  private req(): never {
    return requestOptions(Math.max(this.retryPeriodMs, 1_000)) as never;
  }

  private noteLeader(identity: string, callbacks: LeaderCallbacks): void {
    if (identity && identity !== this.lastLeader) {
      this.lastLeader = identity;
      callbacks.onNewLeader?.(identity);
    }
  }

  /** Clears the holder so that a standby does not wait out the lease (ReleaseOnCancel). */
  private async release(): Promise<void> {
    const { namespace, name, identity, log } = this.options;
    try {
      const lease = await this.api.readNamespacedLease({ name, namespace }, this.req());
      if (lease.spec?.holderIdentity !== identity) return;
      const now = new V1MicroTime(this.options.clock.now());
      await this.api.replaceNamespacedLease({
        name,
        namespace,
        body: { ...lease, spec: { ...lease.spec, holderIdentity: '', leaseDurationSeconds: 1, renewTime: now } },
      }, this.req());
      log.info({ identity }, 'released leadership');
    } catch (err) {
      log.debug({ error: apiFailure(err).message }, 'leader election: release failed');
    }
  }
}
