// Generates the `forever` canister's Candid file, the canister's own
// TypeScript types (canister/src/candid-types.ts) and the clients'
// JavaScript/TypeScript declarations from the one TypeScript IDL definition (canister/src/candid.ts),
// laid out as `dfx generate` does (src/declarations/forever/{index.js,
// index.d.ts, forever.did.js, forever.did.d.ts}). No didc: the IDL objects are
// walked and printed. Run by canister/scripts/build.ts after the azle build
// (azle writes an inlined .did; this rewrites it with named types, the same
// interface), or on its own: `tsx canister/scripts/post-build.ts`.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { IDL } from '@dfinity/candid';
import { foreverInit, foreverMethods, foreverTypes, type MethodSpec } from '../src/candid.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const CANISTER = 'forever';

type Named = Map<IDL.Type, string>;

const isBlob = (t: IDL.Type): boolean => t instanceof IDL.VecClass && inner(t) instanceof IDL.FixedNatClass && (inner(t) as IDL.FixedNatClass)._bits === 8;
const inner = (t: IDL.Type): IDL.Type => (t as unknown as { _type: IDL.Type })._type;
const fields = (t: IDL.RecordClass | IDL.VariantClass): Array<[string, IDL.Type]> => t._fields;
const quoteLabel = (l: string): string => (/^[A-Za-z_][A-Za-z0-9_]*$/.test(l) ? l : JSON.stringify(l));

/** A Candid type in .did syntax. */
function did(t: IDL.Type, named: Named, top = false): string {
  const name = named.get(t);
  if (name && !top) return name;
  if (isBlob(t)) return 'blob';
  if (t instanceof IDL.VecClass) return `vec ${did(inner(t), named)}`;
  if (t instanceof IDL.OptClass) return `opt ${did(inner(t), named)}`;
  if (t instanceof IDL.VariantClass) {
    const parts = fields(t).map(([l, ft]) => (ft instanceof IDL.NullClass ? quoteLabel(l) : `${quoteLabel(l)} : ${did(ft, named)}`));
    return `variant { ${parts.join('; ')} }`;
  }
  if (t instanceof IDL.RecordClass) {
    return `record { ${fields(t).map(([l, ft]) => `${quoteLabel(l)} : ${did(ft, named)}`).join('; ')} }`;
  }
  return t.name; // primitives: text, nat32, nat64, bool, null, principal
}

/** A Candid type as `IDL.*` JavaScript. */
function js(t: IDL.Type, named: Named, top = false): string {
  const name = named.get(t);
  if (name && !top) return name;
  if (t instanceof IDL.VecClass) return `IDL.Vec(${js(inner(t), named)})`;
  if (t instanceof IDL.OptClass) return `IDL.Opt(${js(inner(t), named)})`;
  if (t instanceof IDL.VariantClass || t instanceof IDL.RecordClass) {
    const kind = t instanceof IDL.VariantClass ? 'Variant' : 'Record';
    return `IDL.${kind}({ ${fields(t).map(([l, ft]) => `'${l}' : ${js(ft, named)}`).join(', ')} })`;
  }
  if (t instanceof IDL.FixedNatClass) return `IDL.Nat${t._bits}`;
  if (t instanceof IDL.TextClass) return 'IDL.Text';
  if (t instanceof IDL.BoolClass) return 'IDL.Bool';
  if (t instanceof IDL.NullClass) return 'IDL.Null';
  if (t instanceof IDL.PrincipalClass) return 'IDL.Principal';
  throw new Error(`post-build: no JS printer for Candid type ${t.name}`);
}

/** A Candid type as the TypeScript type @dfinity/agent decodes to (as dfx prints it). */
function ts(t: IDL.Type, named: Named, top = false): string {
  const name = named.get(t);
  if (name && !top) return name;
  if (isBlob(t)) return 'Uint8Array | number[]';
  if (t instanceof IDL.VecClass) {
    // @dfinity/candid decodes vectors of fixed-width numbers to typed arrays (as dfx's types say).
    const el = inner(t);
    if (el instanceof IDL.FixedNatClass && el._bits === 16) return 'Uint16Array | number[]';
    if (el instanceof IDL.FixedNatClass && el._bits === 32) return 'Uint32Array | number[]';
    if (el instanceof IDL.FixedNatClass && el._bits === 64) return 'BigUint64Array | bigint[]';
    return `Array<${ts(el, named)}>`;
  }
  if (t instanceof IDL.OptClass) return `[] | [${ts(inner(t), named)}]`;
  if (t instanceof IDL.VariantClass) return fields(t).map(([l, ft]) => `{ '${l}' : ${ts(ft, named)} }`).join(' |\n  ');
  if (t instanceof IDL.RecordClass) return `{\n${fields(t).map(([l, ft]) => `  '${l}' : ${ts(ft, named)},`).join('\n')}\n}`;
  if (t instanceof IDL.FixedNatClass) return t._bits <= 32 ? 'number' : 'bigint';
  if (t instanceof IDL.TextClass) return 'string';
  if (t instanceof IDL.BoolClass) return 'boolean';
  if (t instanceof IDL.NullClass) return 'null';
  if (t instanceof IDL.PrincipalClass) return 'Principal';
  throw new Error(`post-build: no TypeScript printer for Candid type ${t.name}`);
}

export interface Generated {
  did: string;
  didJs: string;
  didDts: string;
  indexJs: string;
  indexDts: string;
  /** The same types for the canister itself (canister/src/candid-types.ts): no tier imports another's folder. */
  canisterTypes: string;
}

export function generate(): Generated {
  const types = foreverTypes(IDL);
  const methods = foreverMethods(IDL, types) as Record<string, MethodSpec>;
  const named: Named = new Map(Object.entries(types).map(([n, t]) => [t as IDL.Type, n]));
  const header = '// Generated by canister/scripts/post-build.ts from canister/src/candid.ts. Do not edit.\n';
  const methodNames = Object.keys(methods);
  const initArgs = foreverInit(IDL, types);

  const didTypes = Object.entries(types).map(([n, t]) => `type ${n} = ${did(t, named, true)};`);
  const didMethods = methodNames.map((m) => {
    const s = methods[m];
    return `  ${m} : (${s.args.map((a) => did(a, named)).join(', ')}) -> (${did(s.ret, named)})${s.query ? ' query' : ''};`;
  });
  const didText = `// The forever canister. ${header.slice(3)}${didTypes.join('\n')}\nservice : (${initArgs.map((a) => did(a, named)).join(', ')}) -> {\n${didMethods.join('\n')}\n}\n`;

  const jsTypes = Object.entries(types).map(([n, t]) => `  const ${n} = ${js(t, named, true)};`);
  const jsMethods = methodNames.map((m) => {
    const s = methods[m];
    return `    '${m}' : IDL.Func([${s.args.map((a) => js(a, named)).join(', ')}], [${js(s.ret, named)}], [${s.query ? "'query'" : ''}]),`;
  });
  const didJs = `${header}export const idlFactory = ({ IDL }) => {\n${jsTypes.join('\n')}\n  return IDL.Service({\n${jsMethods.join('\n')}\n  });\n};\nexport const init = ({ IDL }) => {\n${jsTypes.join('\n')}\n  return [${initArgs.map((a) => js(a, named)).join(', ')}];\n};\n`;

  const dtsTypes = Object.entries(types).map(([n, t]) => {
    const body = ts(t, named, true);
    return t instanceof IDL.RecordClass ? `export interface ${n} ${body}` : `export type ${n} = ${body};`;
  });
  const dtsMethods = methodNames.map((m) => {
    const s = methods[m];
    return `  '${m}' : ActorMethod<[${s.args.map((a) => ts(a, named)).join(', ')}], ${ts(s.ret, named)}>,`;
  });
  const didDts =
    `${header}import type { Principal } from '@dfinity/principal';\nimport type { ActorMethod } from '@dfinity/agent';\nimport type { IDL } from '@dfinity/candid';\n\n` +
    `${dtsTypes.join('\n')}\nexport interface _SERVICE {\n${dtsMethods.join('\n')}\n}\n` +
    `export declare const idlFactory: IDL.InterfaceFactory;\nexport declare const init: (args: { IDL: typeof IDL }) => IDL.Type[];\n`;

  // index.js as dfx writes it with node_compatibility (no default actor built at import).
  const envName = `CANISTER_ID_${CANISTER.toUpperCase()}`;
  const indexJs = `${header}import { Actor, HttpAgent } from '@dfinity/agent';
import { idlFactory } from './${CANISTER}.did.js';
export { idlFactory } from './${CANISTER}.did.js';

/** The canister id from the environment (${envName}), when the bundler or Node provides one. */
export const canisterId = typeof process !== 'undefined' && process.env ? process.env.${envName} : undefined;

export const createActor = (canisterId, options = {}) => {
  const agent = options.agent || HttpAgent.createSync({ ...options.agentOptions });
  if (options.agent && options.agentOptions) {
    console.warn('Detected both agent and agentOptions passed to createActor. Ignoring agentOptions and proceeding with the provided agent.');
  }
  return Actor.createActor(idlFactory, { agent, canisterId, ...options.actorOptions });
};
`;
  const indexDts = `${header}import type { ActorSubclass, HttpAgentOptions, ActorConfig, Agent } from '@dfinity/agent';
import type { Principal } from '@dfinity/principal';
import type { IDL } from '@dfinity/candid';
import { _SERVICE } from './${CANISTER}.did';

export declare const idlFactory: IDL.InterfaceFactory;
export declare const canisterId: string | undefined;
export declare const createActor: (
  canisterId: string | Principal,
  options?: { agent?: Agent; agentOptions?: HttpAgentOptions; actorOptions?: ActorConfig },
) => ActorSubclass<_SERVICE>;
export type { _SERVICE } from './${CANISTER}.did';
export * from './${CANISTER}.did';
`;
  const canisterTypes = `${header}// The TypeScript shapes of the canister's Candid values, for canister/src.\nimport type { Principal } from '@dfinity/principal';\n\n${dtsTypes.join('\n')}\n`;
  return { did: didText, didJs, didDts, indexJs, indexDts, canisterTypes };
}

export function writeGenerated(): string[] {
  const g = generate();
  const outDir = join(root, 'src/declarations', CANISTER);
  mkdirSync(outDir, { recursive: true });
  const files: Array<[string, string]> = [
    [join(root, 'canister', `${CANISTER}.did`), g.did],
    [join(outDir, `${CANISTER}.did.js`), g.didJs],
    [join(outDir, `${CANISTER}.did.d.ts`), g.didDts],
    [join(outDir, 'index.js'), g.indexJs],
    [join(outDir, 'index.d.ts'), g.indexDts],
    [join(root, 'canister/src/candid-types.ts'), g.canisterTypes],
  ];
  const written: string[] = [];
  for (const [path, text] of files) {
    let old: string | undefined;
    try {
      old = readFileSync(path, 'utf8');
    } catch {
      old = undefined;
    }
    // Leave unchanged files alone so their mtimes do not trigger rebuilds.
    if (old !== text) {
      writeFileSync(path, text);
      written.push(path);
    }
  }
  return written;
}

const written = writeGenerated();
if (written.length) console.log(`post-build: wrote ${written.map((p) => p.slice(root.length + 1)).join(', ')}`);
