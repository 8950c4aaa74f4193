// The wizard's background uploads. Files are encrypted and uploaded as soon
// as they are added (the content key does not depend on the password), one
// file at a time — each with several parts in flight (lib/upload.js) — so
// Start transfer usually finds everything stored and only has to seal and
// send. A file that fails is tried again from where it stopped (what was
// stored stays stored); a removed file is stopped and taken out of the
// draft, so it is neither sent nor counted.
import { call, ApiError, backoff, pause } from '../lib/api.js';
import { Progress } from '../lib/progress.js';
import { uploadFile } from '../lib/upload.js';

/** Whole-file attempts before a file is reported failed (each part has its own retries). */
const FILE_TRIES = 3;

export class UploadQueue {
  /** `onChange()` is called whenever an item's state or the progress changes. */
  constructor(onChange) {
    this.onChange = onChange;
    this.transfer = null;
    this.items = [];
    this.running = null;
    this.waiters = [];
    this.meter = new Progress(0, () => this.onChange());
  }

  /** Starts uploading into `transfer` (the draft); files added before wait for it. */
  start(transfer) {
    this.transfer = transfer;
    this.kick();
  }

  /** Adds `file`; its item is `{file, state, error}` (waiting, uploading, done, failed). */
  add(file) {
    const item = { file, state: 'waiting', error: null, progress: {}, done: 0, controller: null };
    this.items.push(item);
    this.meter.rebase(this.meter.done, this.meter.total + file.size);
    this.kick();
    this.onChange();
    return item;
  }

  /** Stops and removes `item`; a file the server already knows is taken out of the draft. */
  async remove(item) {
    const index = this.items.indexOf(item);
    if (index < 0) return;
    this.items.splice(index, 1);
    item.removed = true;
    item.controller?.abort(new DOMException('removed', 'AbortError'));
    await item.finished;
    this.forget(item);
    this.onChange();
    const file = item.progress.sealed?.file;
    if (file && this.transfer) {
      try {
        await call('DELETE', `/api/transfers/${this.transfer}/files/${file}`, { retry: true });
      } catch (error) {
        // Not declared after all: nothing to take out. Anything else leaves
        // an unused object in a draft that expire deletes with the draft.
        if (!(error instanceof ApiError && error.code === 'unknown_file')) throw error;
      }
    }
  }

  /** Puts failed files back in line. */
  retryFailed() {
    for (const item of this.items) {
      if (item.state === 'failed') {
        item.state = 'waiting';
        item.error = null;
      }
    }
    this.kick();
    this.onChange();
  }

  /** Whether every file is stored. */
  get complete() {
    return this.items.length > 0 && this.items.every((item) => item.state === 'done');
  }

  /** The progress figures over all files. */
  snapshot() {
    return this.meter.snapshot();
  }

  /**
   * Resolves with the manifest entries, in the order the files were added,
   * once every file is stored; rejects with the first failure (after
   * putting failed files back in line once) or when `signal` aborts.
   */
  async settled(signal) {
    this.retryFailed();
    for (;;) {
      if (signal?.aborted) throw signal.reason;
      const failed = this.items.find((item) => item.state === 'failed');
      if (failed) throw failed.error;
      if (this.complete) return this.items.map((item) => item.progress.entry);
      // Woken when a file ends; the timer also notices an abort.
      await new Promise((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 500);
      });
    }
  }

  kick() {
    if (this.running || !this.transfer) return;
    this.running = this.run().finally(() => { this.running = null; });
  }

  async run() {
    for (;;) {
      const item = this.items.find((i) => i.state === 'waiting');
      if (!item) return;
      item.finished = this.upload(item);
      await item.finished;
    }
  }

  /** Uploads one item, trying the whole file again after a failure (stored parts are kept). */
  async upload(item) {
    item.state = 'uploading';
    this.onChange();
    for (let attempt = 1; ; attempt += 1) {
      item.controller = new AbortController();
      // A retry reports the parts stored before again: count them once.
      this.meter.rebase(this.meter.done - item.done);
      item.done = 0;
      try {
        await uploadFile({
          transfer: this.transfer,
          blob: item.file,
          signal: item.controller.signal,
          progress: item.progress,
          onBytes: (n) => {
            if (item.removed) return;
            item.done += n;
            this.meter.add(n);
          },
        });
        item.state = 'done';
        break;
      } catch (error) {
        if (item.removed) return;
        if (attempt >= FILE_TRIES || !transient(error)) {
          item.state = 'failed';
          item.error = error;
          break;
        }
        await pause(backoff(attempt + 2)).catch(() => {});
      } finally {
        item.controller = null;
      }
    }
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
    this.onChange();
  }

  forget(item) {
    this.meter.rebase(this.meter.done - item.done, this.meter.total - item.file.size);
    item.done = 0;
  }
}

/** Failures worth another try of the whole file: the network and a busy server. */
function transient(error) {
  if (error instanceof ApiError) return error.status === 0 || error.status === 429 || error.status >= 500;
  return error?.code === 'network';
}
