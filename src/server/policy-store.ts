import { statSync, watch, type FSWatcher } from 'node:fs';
import { basename } from 'node:path';
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
  /** How often to look for a removed policy directory to come back (ms, default 1000; backs off to 5 s). */
  pollMs?: number;
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
  private poll?: NodeJS.Timeout;
  private watchedIno?: number;
  private closed = false;
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

  /**
   * Watches the directory (a ConfigMap mount swaps its `..data` symlink) and reloads, debounced.
   * When the directory itself is removed or replaced (the watch then sees nothing more), the watch is
   * dropped, a reload records the error, and the directory is polled for until it is back, when it is
   * watched again and reloaded.
   */
  watch(): void {
    this.closed = false;
    if (!this.attach()) this.lost('policy directory is missing');
  }

  private attach(): boolean {
    const ino = inode(this.opts.dir);
    if (ino === undefined) return false;
    try {
      const w = watch(this.opts.dir, { persistent: false }, (_event, file) => this.changed(file));
      w.on('error', (err) => {
        this.opts.logger.warn({ event: 'policy-watch-failed', err: err.message }, 'policy directory watch failed');
        this.lost('policy directory watch failed');
      });
      this.watcher = w;
      this.watchedIno = ino;
      return true;
    } catch {
      return false;
    }
  }

  private changed(file: string | null): void {
    // inotify reports the removal or move of the watched directory itself as a 'rename' event that
    // bears the directory's own name; a directory recreated under the same path has a new inode.
    if (file === basename(this.opts.dir) || inode(this.opts.dir) !== this.watchedIno) this.lost('policy directory removed or replaced');
    else this.schedule('file change');
  }

  private lost(reason: string): void {
    if (this.closed) return;
    this.watcher?.close();
    this.watcher = undefined;
    clearTimeout(this.poll);
    this.schedule(reason);
    if (this.attach()) return;
    this.opts.logger.warn({ event: 'policy-watch-lost', dir: this.opts.dir, reason }, 'policy directory is gone; the last good policies keep serving until it is back');
    const base = this.opts.pollMs ?? 1000;
    const retry = (delay: number): void => {
      this.poll = setTimeout(() => {
        if (this.closed) return;
        if (this.attach()) {
          this.opts.logger.info({ event: 'policy-watch-restored', dir: this.opts.dir }, 'policy directory is back; watching it again');
          this.schedule('policy directory recreated');
        } else retry(Math.min(delay * 2, Math.max(base, 5000)));
      }, delay);
      this.poll.unref();
    };
    retry(base);
  }

  schedule(reason: string): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.reload(reason), this.opts.debounceMs ?? 300);
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    clearTimeout(this.poll);
    this.watcher?.close();
  }
}

function inode(path: string): number | undefined {
  try {
    const st = statSync(path);
    return st.isDirectory() ? st.ino : undefined;
  } catch {
    return undefined;
  }
}
