// What a test can observe of the canister's whole state: the controller's
// stats and invariants plus one principal's usage and live uploads. Two equal
// snapshots around a refused call show the call changed nothing.
import { ok, type ForeverActor } from './actor';
import type { Forever } from './forever';

export async function snapshot(f: Forever, actor: ForeverActor): Promise<string> {
  const [stats, usage, uploads, inv] = await Promise.all([f.admin.get_stats(), actor.get_usage(), actor.list_my_uploads(), f.admin.check_invariants()]);
  const report = ok(inv);
  if (!report.ok) throw new Error(`invariants broken: ${report.violations.join('; ')}`);
  return JSON.stringify({ stats: ok(stats), usage: ok(usage), uploads: ok(uploads) }, (_k, v) =>
    typeof v === 'bigint' ? `${v}n` : v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v,
  );
}
