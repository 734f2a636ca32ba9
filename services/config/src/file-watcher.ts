/**
 * Watches the directory of the symbol file with `fs.watch` (inotify on Linux): no polling.
 *
 * The directory, not the file, is watched because editors and deploy tools replace files
 * atomically (write a temp file, rename it over the old one; Kubernetes ConfigMaps swap a
 * `..data` symlink): a watch on the old inode would go silent after the first save. Every
 * event in the directory is debounced into one `onChange()`; the caller re-reads the file and
 * skips unchanged content by its hash, so unrelated events cost one small read.
 */
import { watch, type FSWatcher } from 'node:fs';
import type { Logger } from '@cvd/common';

export interface DirectoryWatcherOptions {
  readonly dir: string;
  /** Quiet time after the last event before `onChange` runs. */
  readonly debounceMs: number;
  readonly onChange: () => void;
  readonly logger: Logger;
  /** Wait before watching again after the directory vanished or the watch failed. @defaultValue 5000 */
  readonly rewatchMs?: number;
}

export interface DirectoryWatcher {
  close(): void;
}

export function watchDirectory(options: DirectoryWatcherOptions): DirectoryWatcher {
  const { dir, debounceMs, onChange, logger } = options;
  const rewatchMs = options.rewatchMs ?? 5_000;
  let watcher: FSWatcher | undefined;
  let debounce: NodeJS.Timeout | undefined;
  let retry: NodeJS.Timeout | undefined;
  let closed = false;

  const fire = (): void => {
    clearTimeout(debounce);
    debounce = setTimeout(() => {
      debounce = undefined;
      if (!closed) onChange();
    }, debounceMs);
  };

  const start = (): void => {
    retry = undefined;
    if (closed) return;
    try {
      watcher = watch(dir, { persistent: false }, () => fire());
      watcher.on('error', (err) => {
        logger.warn({ err, dir }, 'watching the config directory failed; watching again shortly');
        watcher?.close();
        watcher = undefined;
        retry ??= setTimeout(start, rewatchMs);
      });
      // Catch changes made while no watch was active.
      fire();
    } catch (err) {
      logger.warn({ err, dir }, 'cannot watch the config directory; trying again shortly');
      retry ??= setTimeout(start, rewatchMs);
    }
  };
  start();
  // The first successful start() fires once; the initial load is done by the caller.
  clearTimeout(debounce);
  debounce = undefined;

  return {
    close() {
      closed = true;
      clearTimeout(debounce);
      clearTimeout(retry);
      watcher?.close();
      watcher = undefined;
    },
  };
}
