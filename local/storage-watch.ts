import { statfs } from 'node:fs/promises';
import { logger } from '../src/logger.js';

export interface StorageWatchOptions {
  /** The folder whose file system filled up (the bucket's data directory). */
  dataDir: string;
  /** Called once the file system has room again: reconcile what the full disk left pending. */
  onRoom: () => void;
  /** Free bytes that count as room again. @default 16 MiB */
  roomBytes?: number;
  /** @default 2000 */
  everyMs?: number;
}

/**
 * After a write failed for want of space, watches the data directory's file system until it has room again,
 * then calls `onRoom` once: the images a full disk kept from being extracted (their features or links could
 * not be written, and their dead letters neither) are found from the bucket and extracted, with no request.
 */
export class StorageWatch {
  private timer: NodeJS.Timeout | undefined;
  private readonly roomBytes: number;
  private readonly everyMs: number;

  constructor(private readonly options: StorageWatchOptions) {
    this.roomBytes = options.roomBytes ?? 16 * 1024 * 1024;
    this.everyMs = options.everyMs ?? 2000;
  }

  get watching(): boolean {
    return this.timer !== undefined;
  }

  /** A write to `path` failed with ENOSPC: start watching (once; later reports while watching change nothing). */
  full(path: string): void {
    if (this.timer) return;
    logger.error(`The disk holding ${this.options.dataDir} is full (a write to ${path} failed): uploads and extraction fail with 507 StorageFull until space is freed; extraction resumes by itself then.`, { path });
    this.timer = setInterval(() => void this.check(), this.everyMs);
  }

  close(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private async check(): Promise<void> {
    let free: number;
    try {
      const stats = await statfs(this.options.dataDir);
      free = stats.bavail * stats.bsize;
    } catch {
      return;
    }
    if (free < this.roomBytes || !this.timer) return;
    this.close();
    logger.info(`The disk holding ${this.options.dataDir} has room again (${Math.round(free / 1024 / 1024)} MiB free); extracting what it left pending.`);
    this.options.onRoom();
  }
}
