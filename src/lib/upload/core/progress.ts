// Speed and ETA over a sliding window of byte samples. Pure: timestamps are
// passed in. A sliding window (not the average since start) follows a
// connection that changes speed, and a resumed upload does not count the
// chunks received before the restart as instant.

export interface Sample {
  at: number;
  bytes: number;
}

export class SpeedMeter {
  private samples: Sample[] = [];

  constructor(private readonly windowMs = 5_000) {}

  /** Record that `bytes` more bytes were confirmed at time `at` (ms). */
  add(at: number, bytes: number): void {
    this.samples.push({ at, bytes });
    const from = at - this.windowMs;
    // Keep one sample older than the window as the interval's left edge.
    while (this.samples.length > 2 && this.samples[1].at <= from) this.samples.shift();
  }

  /** Bytes per second; 0 until two samples span some time. */
  speed(now: number): number {
    if (this.samples.length < 2) return 0;
    const first = this.samples[0];
    const span = Math.max(now, this.samples[this.samples.length - 1].at) - first.at;
    if (span <= 0) return 0;
    let bytes = 0;
    for (let i = 1; i < this.samples.length; i++) bytes += this.samples[i].bytes;
    return (bytes * 1000) / span;
  }

  reset(): void {
    this.samples = [];
  }
}

/** Seconds left, or null when the speed is unknown. */
export function eta(remainingBytes: number, bytesPerSecond: number): number | null {
  if (remainingBytes <= 0) return 0;
  if (!(bytesPerSecond > 0)) return null;
  return remainingBytes / bytesPerSecond;
}

/** Bytes of the chunks in `received`, given the file size and chunk size (the last chunk may be short). */
export function receivedBytes(received: readonly number[], size: number, chunkSize: number): number {
  let total = 0;
  for (const i of received) total += Math.max(0, Math.min(chunkSize, size - i * chunkSize));
  return total;
}
