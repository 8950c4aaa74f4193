// Progress of a transfer of bytes: share done, speed over the last few
// seconds, and time left at that speed.

const WINDOW_MS = 3000;

export class Progress {
  constructor(total, onChange) {
    this.total = total;
    this.done = 0;
    this.onChange = onChange;
    this.samples = [{ at: performance.now(), done: 0 }];
    this.lastReport = 0;
  }

  /** Counts `n` more bytes and reports, at most four times a second. */
  add(n) {
    this.done += n;
    const now = performance.now();
    this.samples.push({ at: now, done: this.done });
    while (this.samples.length > 2 && now - this.samples[0].at > WINDOW_MS) this.samples.shift();
    if (now - this.lastReport >= 250 || this.done >= this.total) {
      this.lastReport = now;
      this.onChange?.(this.snapshot());
    }
  }

  /**
   * Sets the counts anew (a file removed, or a retry about to report its
   * stored parts again) and restarts the speed window from here, so the
   * correction is not read as speed.
   */
  rebase(done, total = this.total) {
    this.done = done;
    this.total = total;
    this.samples = [{ at: performance.now(), done }];
    this.onChange?.(this.snapshot());
  }

  /** `{done, total, fraction, bytesPerSecond, secondsLeft}`; unknowns are null. */
  snapshot() {
    const first = this.samples[0];
    const last = this.samples[this.samples.length - 1];
    const elapsed = (last.at - first.at) / 1000;
    const bytesPerSecond = elapsed > 0.2 ? (last.done - first.done) / elapsed : null;
    const left = Math.max(0, this.total - this.done);
    return {
      done: this.done,
      total: this.total,
      fraction: this.total > 0 ? Math.min(1, this.done / this.total) : 1,
      bytesPerSecond,
      secondsLeft: bytesPerSecond ? left / bytesPerSecond : null,
    };
  }
}
