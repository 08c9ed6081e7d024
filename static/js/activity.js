import { ApiError, call } from "./api.js";
import { plural } from "./format.js";

const BUSY_POLL_MS = 2_500;
const IDLE_POLL_MS = 15_000;

// Watches the background queue (imports, thumbnails, scans) and tells whoever
// listens how busy it is. The queue statistics are for administrators only; for
// anyone else the watcher stays silent and listeners rely on their own refreshes.
export class Activity {
  constructor(indicator) {
    this.indicator = indicator;
    this.listeners = new Set();
    this.stats = null;
    this.busy = false;
    this.baseline = 0;
    this.timer = 0;
    this.stopped = true;
  }

  start() {
    this.stopped = false;
    this.poll();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  // Something was just queued (an upload, a scan): look sooner than planned.
  nudge() {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.poll(), 500);
  }

  subscribe(listener) {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async poll() {
    clearTimeout(this.timer);
    try {
      const stats = await call("GET", "/admin/river/stats");
      this.update(stats);
    } catch (error) {
      if (error instanceof ApiError && (error.status === 401 || error.status === 403)) {
        this.stop();
        return;
      }
    }
    if (!this.stopped) {
      const delay = this.busy ? BUSY_POLL_MS : IDLE_POLL_MS;
      this.timer = setTimeout(() => this.poll(), delay);
    }
  }

  update(stats) {
    const wasBusy = this.busy;
    const left = tasksLeft(stats);
    this.stats = stats;
    this.busy = left > 0;
    // The completed count covers the server's whole life; progress is measured
    // from the moment this stretch of work began.
    if (this.busy && !wasBusy) this.baseline = stats.completed ?? 0;

    this.indicator.hidden = !this.busy;
    this.indicator.textContent = this.busy
      ? `Processing · ${plural(left, "task")} left` : "";
    const change = { stats, busy: this.busy, wasBusy };
    for (const listener of this.listeners) listener(change);
  }

  // How far the queue is through its current stretch of work; null when idle.
  progress() {
    if (!this.busy) return null;
    const done = Math.max(0, (this.stats.completed ?? 0) - (this.baseline ?? 0));
    return done / (done + tasksLeft(this.stats));
  }
}

function tasksLeft(stats) {
  return (stats?.available ?? 0) + (stats?.running ?? 0) + (stats?.retryable ?? 0);
}
