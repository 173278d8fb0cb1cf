// Time a labeler spends on a task, counting only while the page is visible.

export class ActiveTimer {
  constructor() {
    this.spent = 0;
    this.since = document.visibilityState === "visible" ? performance.now() : null;
  }

  pause() {
    if (this.since === null) return;
    this.spent += performance.now() - this.since;
    this.since = null;
  }

  resume() {
    if (this.since === null) this.since = performance.now();
  }

  /** Whole milliseconds so far (capped at a day, the server's limit). */
  ms() {
    const running = this.since === null ? 0 : performance.now() - this.since;
    return Math.min(Math.round(this.spent + running), 86_400_000);
  }
}
