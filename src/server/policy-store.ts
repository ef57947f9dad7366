import { watch, type FSWatcher } from 'node:fs';
import type { Logger } from 'pino';
import { type ClusterSource, engineFor } from '../engine/build.js';
import type { Engine } from '../engine/engine.js';
import { PolicyError } from '../policy/parse.js';
import type { PolicySet } from '../policy/types.js';
import { loadPolicyDir } from './policy-files.js';

export interface StoreOptions {
  dir: string;
  logger: Logger;
  /** Accelerator resource names (globs) counted in addition to the defaults and the pools' resources. */
  extraAccelerators?: string[];
  cluster?: ClusterSource;
  debounceMs?: number;
  /** Told of every load attempt (metrics). */
  onReload?(ok: boolean, status: StoreStatus): void;
}

export interface StoreStatus {
  loaded: boolean;
  loadedAt?: string;
  files: string[];
  pools: number;
  policies: number;
  lastError?: string;
  reloads: number;
  failedReloads: number;
}

/** Holds the last good policy set and reloads it when the directory changes. */
export class PolicyStore {
  private current?: Engine;
  private set?: PolicySet;
  private watcher?: FSWatcher;
  private timer?: NodeJS.Timeout;
  readonly status: StoreStatus = { loaded: false, files: [], pools: 0, policies: 0, reloads: 0, failedReloads: 0 };

  constructor(private readonly opts: StoreOptions) {}

  get engine(): Engine | undefined {
    return this.current;
  }

  get policies(): PolicySet | undefined {
    return this.set;
  }

  /** Loads the directory; on failure keeps what was loaded before. Returns whether it succeeded. */
  async reload(reason = 'start'): Promise<boolean> {
    const { logger } = this.opts;
    try {
      const set = await loadPolicyDir(this.opts.dir);
      this.current = engineFor(set, this.opts.extraAccelerators, this.opts.cluster);
      this.set = set;
      Object.assign(this.status, {
        loaded: true, loadedAt: new Date().toISOString(), files: set.files, pools: set.pools.length,
        policies: set.policies.length, lastError: undefined, reloads: this.status.reloads + 1,
      });
      this.opts.onReload?.(true, this.status);
      logger.info({ event: 'policies-loaded', reason, dir: this.opts.dir, pools: set.pools.map((p) => p.name), policies: set.policies.map((p) => p.name) }, 'policies loaded');
      return true;
    } catch (err) {
      const problems = err instanceof PolicyError ? err.problems : [(err as Error).message];
      this.status.lastError = problems.join('; ');
      this.status.failedReloads += 1;
      this.opts.onReload?.(false, this.status);
      logger.error({ event: 'policies-rejected', reason, dir: this.opts.dir, problems, keeping: this.status.loadedAt ?? null },
        this.current ? 'policy change rejected; the last good policies keep serving' : 'policies could not be loaded');
      return false;
    }
  }

  /** Watches the directory (a ConfigMap mount swaps its `..data` symlink) and reloads, debounced. */
  watch(): void {
    this.watcher = watch(this.opts.dir, { persistent: false }, () => this.schedule('file change'));
    this.watcher.on('error', (err) => this.opts.logger.warn({ err }, 'policy directory watch failed'));
  }

  schedule(reason: string): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.reload(reason), this.opts.debounceMs ?? 300);
  }

  close(): void {
    clearTimeout(this.timer);
    this.watcher?.close();
  }
}
