// The import boundaries of docs/architecture.md, enforced: every import
// specifier (static, dynamic, type-only, `export … from`) in the tiers'
// sources is resolved to a folder, and no tier reaches into another tier's
// folder except through contract/ (and the clients' use of the declarations
// generated from the canister's Candid, src/declarations). Violations are
// listed one per line: `file → specifier (tier → tier)`.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '..');

/** The tiers, most specific first (src/declarations is a folder of its own). */
const TIERS = ['contract', 'canister/src', 'canister/local', 'src/declarations', 'server', 'src-worker', 'src'] as const;
type Tier = (typeof TIERS)[number];

/** What each tier may import besides itself and packages. */
const ALLOWED: Record<Tier, readonly Tier[]> = {
  contract: [],
  'canister/src': ['contract'],
  'canister/local': ['contract'],
  'src/declarations': [],
  server: ['contract'],
  // The client tier is two folders: the page starts the workers and shares
  // their protocol, and the workers use the client's own helpers.
  src: ['contract', 'src/declarations', 'src-worker'],
  'src-worker': ['contract', 'src/declarations', 'src'],
};

/**
 * The one place one tier embeds another: `npm start` runs the local IC in the
 * server's process (server/main.ts starts it, server/ic/local-network.ts
 * deploys `forever` and registers the server as its presence verifier).
 * Everything else in the server reaches any IC over HTTP only.
 */
const EMBEDDING: Record<string, Tier> = {
  'server/main.ts': 'canister/local',
  'server/ic/local-network.ts': 'canister/local',
};

/** SvelteKit's aliases (svelte.config.js): `$lib` is src/lib, `$worker` src-worker. */
const ALIASES: Array<[RegExp, string]> = [
  [/^\$lib(\/|$)/, 'src/lib$1'],
  [/^\$worker(\/|$)/, 'src-worker$1'],
];
/** SvelteKit's virtual modules: part of the framework, not of a folder. */
const VIRTUAL = /^\$(app|env|service-worker)(\/|$)/;

const SOURCE = /\.(ts|js|mjs|svelte)$/;

function files(dir: string): string[] {
  const abs = path.join(ROOT, dir);
  let names: string[];
  try {
    names = readdirSync(abs);
  } catch {
    return [];
  }
  return names.flatMap((name) => {
    const rel = path.posix.join(dir, name);
    if (name === 'node_modules' || name.startsWith('.')) return [];
    return statSync(path.join(ROOT, rel)).isDirectory() ? files(rel) : SOURCE.test(name) && !name.endsWith('.d.ts') ? [rel] : [];
  });
}

const tierOf = (rel: string): Tier | undefined => TIERS.find((t) => rel === t || rel.startsWith(`${t}/`));

/** Every module specifier a file names, with TypeScript's own scanner (dynamic imports included). */
function specifiers(rel: string): string[] {
  let text = readFileSync(path.join(ROOT, rel), 'utf8');
  if (rel.endsWith('.svelte')) text = [...text.matchAll(/<script[^>]*>([\s\S]*?)<\/script>/g)].map((m) => m[1]).join('\n');
  const info = ts.preProcessFile(text, true, true);
  return info.importedFiles.map((f) => f.fileName);
}

/** The repository folder a specifier points into, or undefined for a package or a virtual module. */
function target(from: string, spec: string): string | undefined {
  if (VIRTUAL.test(spec)) return undefined;
  for (const [re, to] of ALIASES) if (re.test(spec)) return path.posix.normalize(spec.replace(re, to));
  if (!spec.startsWith('.') && !spec.startsWith('/')) return undefined;
  return path.posix.relative('', path.posix.normalize(path.posix.join(path.posix.dirname(from), spec)));
}

interface Violation {
  file: string;
  spec: string;
  from: Tier;
  to: string;
}

function violations(): { scanned: number; found: Violation[] } {
  const all = TIERS.flatMap((t) => files(t)).filter((f, i, list) => list.indexOf(f) === i);
  const found: Violation[] = [];
  for (const file of all) {
    const from = tierOf(file)!;
    for (const spec of specifiers(file)) {
      const to = target(file, spec);
      if (to === undefined) continue;
      const toTier = tierOf(to);
      if (toTier === from) continue;
      // Folders that are no tier (migrations/, scripts/, canister/scripts/,
      // canister/forever.did) serve whoever needs them; tests and benches serve no one.
      if (!toTier && !/^(tests|bench)(\/|$)/.test(to)) continue;
      if (toTier && ALLOWED[from].includes(toTier)) continue;
      if (toTier && EMBEDDING[file] === toTier) continue;
      found.push({ file, spec, from, to: toTier ?? to.split('/')[0] });
    }
  }
  return { scanned: all.length, found };
}

describe('import boundaries between tiers', () => {
  it('no tier imports another tier except through contract/ (and the clients through src/declarations)', () => {
    const { scanned, found } = violations();
    expect(scanned).toBeGreaterThan(100);
    const listed = found.map((v) => `${v.file} → ${v.spec} (${v.from} → ${v.to})`);
    expect(listed, `imports across tiers:\n${listed.join('\n')}`).toEqual([]);
  });

  it("no two of the server's folders import each other", () => {
    const folderOf = (rel: string): string | undefined => /^server\/([^/]+)\//.exec(rel)?.[1];
    const edges = new Set<string>();
    for (const file of files('server')) {
      const a = folderOf(file);
      if (!a) continue;
      for (const spec of specifiers(file)) {
        const to = target(file, spec);
        const b = to === undefined ? undefined : folderOf(to);
        if (b && b !== a) edges.add(`${a} → ${b}`);
      }
    }
    const pairs = [...edges].filter((e) => {
      const [a, b] = e.split(' → ');
      return a < b && edges.has(`${b} → ${a}`);
    });
    expect(edges.size).toBeGreaterThan(5);
    expect(pairs.map((e) => e.replace(' → ', ' ↔ '))).toEqual([]);
  });

  it('the scanner sees every form of import', () => {
    const text = [
      "import a from '../x/a.js';",
      "import type { B } from '../x/b.js';",
      "export { c } from '../x/c.js';",
      "export * from '../x/d.js';",
      "const e = await import('../x/e.js');",
      "import '../x/f.js';",
    ].join('\n');
    expect(ts.preProcessFile(text, true, true).importedFiles.map((f) => f.fileName)).toEqual([
      '../x/a.js',
      '../x/b.js',
      '../x/c.js',
      '../x/d.js',
      '../x/e.js',
      '../x/f.js',
    ]);
    expect(target('server/ic/forever-idl.ts', '../../src/declarations/forever/index.js')).toBe('src/declarations/forever/index.js');
    expect(tierOf('src/declarations/forever/index.js')).toBe('src/declarations');
    expect(target('src/routes/+page.svelte', '$lib/upload/engine')).toBe('src/lib/upload/engine');
    expect(target('src/service-worker.ts', '$worker/drain')).toBe('src-worker/drain');
    expect(target('src/service-worker.ts', '$service-worker')).toBeUndefined();
    expect(target('server/app.ts', 'hono')).toBeUndefined();
    expect(tierOf('migrations/index.js')).toBeUndefined();
  });
});
