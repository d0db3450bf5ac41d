// Prometheus text exposition (format 0.0.4), hand-written: the server needs
// counters with labels and gauges read at scrape time, about 60 lines; prom-client
// would add a dependency and a process-global registry that fights with several
// app instances per test process.

export type Labels = Record<string, string>;

interface Family {
  name: string;
  help: string;
  type: 'counter' | 'gauge';
  values: Map<string, { labels: Labels; value: number }>;
}

export type GaugeCollector = () => Promise<Array<{ labels?: Labels; value: number }>>;

const labelKey = (labels: Labels): string =>
  Object.keys(labels)
    .sort()
    .map((k) => `${k}=${labels[k]}`)
    .join(',');

const escapeLabel = (v: string): string => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');

function formatSample(name: string, labels: Labels, value: number): string {
  const keys = Object.keys(labels).sort();
  const l = keys.length ? `{${keys.map((k) => `${k}="${escapeLabel(labels[k])}"`).join(',')}}` : '';
  return `${name}${l} ${Number.isFinite(value) ? value : 0}`;
}

export class Counter {
  constructor(private readonly family: Family) {}
  inc(labels: Labels = {}, by = 1): void {
    const key = labelKey(labels);
    const cur = this.family.values.get(key);
    if (cur) cur.value += by;
    else this.family.values.set(key, { labels: { ...labels }, value: by });
  }
  get(labels: Labels = {}): number {
    return this.family.values.get(labelKey(labels))?.value ?? 0;
  }
}

export class MetricsRegistry {
  private readonly families: Family[] = [];
  private readonly gauges: Array<{ name: string; help: string; collect: GaugeCollector }> = [];

  counter(name: string, help: string): Counter {
    const family: Family = { name, help, type: 'counter', values: new Map() };
    this.families.push(family);
    return new Counter(family);
  }

  gauge(name: string, help: string, collect: GaugeCollector): void {
    this.gauges.push({ name, help, collect });
  }

  async render(): Promise<string> {
    const lines: string[] = [];
    for (const f of this.families) {
      lines.push(`# HELP ${f.name} ${f.help}`, `# TYPE ${f.name} ${f.type}`);
      for (const { labels, value } of f.values.values()) lines.push(formatSample(f.name, labels, value));
    }
    for (const g of this.gauges) {
      lines.push(`# HELP ${g.name} ${g.help}`, `# TYPE ${g.name} gauge`);
      for (const s of await g.collect()) lines.push(formatSample(g.name, s.labels ?? {}, s.value));
    }
    return lines.join('\n') + '\n';
  }
}

/** The server's metrics (Prometheus names: the storage events' names with underscores). */
export interface ServerMetrics {
  registry: MetricsRegistry;
  uploadSuccess: Counter; // labels: bucket
  uploadFailure: Counter; // labels: bucket, reason
  queueProcessed: Counter; // labels: status (stored | retry | failed)
  queueEnqueued: Counter; // labels: bucket
  quotaExceeded: Counter; // labels: kind (bytes | store_forever_ops)
  httpRequests: Counter; // labels: method, route, status
}

export function createServerMetrics(): ServerMetrics {
  const registry = new MetricsRegistry();
  return {
    registry,
    uploadSuccess: registry.counter('storage_upload_success_total', 'Uploads stored in the blob store.'),
    uploadFailure: registry.counter('storage_upload_failure_total', 'Blob store failures (each attempt).'),
    queueProcessed: registry.counter('storage_queue_processed_total', 'Upload queue items processed, by outcome.'),
    queueEnqueued: registry.counter('storage_queue_enqueued_total', 'Uploads deferred to the retry queue.'),
    quotaExceeded: registry.counter('quota_exceeded_total', 'Requests refused with STORAGE_QUOTA_EXCEEDED.'),
    httpRequests: registry.counter('http_requests_total', 'HTTP requests answered by the server API.'),
  };
}
