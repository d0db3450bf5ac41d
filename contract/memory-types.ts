// The kinds of memory. The JSON API and the database use the lowercase name;
// the canister's Candid variant uses the capitalised one.

export const MEMORY_TYPES = ['image', 'video', 'audio', 'document', 'note'] as const;
export type MemoryType = (typeof MEMORY_TYPES)[number];

export const MEMORY_TYPE_VARIANTS = ['Image', 'Video', 'Audio', 'Document', 'Note'] as const;
export type MemoryTypeVariant = (typeof MEMORY_TYPE_VARIANTS)[number];

export function toVariant(t: MemoryType): MemoryTypeVariant {
  return MEMORY_TYPE_VARIANTS[MEMORY_TYPES.indexOf(t)];
}

export function fromVariant(v: MemoryTypeVariant): MemoryType {
  return MEMORY_TYPES[MEMORY_TYPE_VARIANTS.indexOf(v)];
}

export function isMemoryType(v: unknown): v is MemoryType {
  return typeof v === 'string' && (MEMORY_TYPES as readonly string[]).includes(v);
}
