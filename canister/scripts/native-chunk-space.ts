// Gives the azle-built `forever` module a raw stable-memory region for chunk
// bytes (the "chunk space"), next to the stable memory azle's maps use.
//
// Why: azle 0.33 (stable mode) gives JavaScript only StableBTreeMaps, and
// inserting a 1 MiB value rewrites the whole leaf it joins (up to 11 values:
// about 3 million instructions per chunk already there). Raw stable memory
// costs one system call per chunk.
//
// How: every stable-memory access of the module goes through four imports
// (`ic0.stable64_size/grow/read/write`), all made by ic-stable-structures'
// MemoryManager. This step puts functions of the same names in front of them:
//   - The MemoryManager keeps its physical layout, unchanged: page 0 (its
//     header), then its 8 MiB buckets from 64 KiB on. What it sees as the
//     memory's size is its own part (`rpages`), so an existing canister's
//     data stays where it is (an upgrade to this module moves nothing).
//   - The chunk space is a list of 8 MiB frames that occupy whole bucket-sized
//     slots after the MemoryManager's part. When the MemoryManager grows into
//     a slot that holds a frame, the frame is copied to a new slot at the end
//     first (about 17 million instructions per 8 MiB of metadata growth). One
//     free slot is kept right after the MemoryManager's part, so its next
//     bucket needs no copy; the sweep timer restores that slot (command 5).
//   - The frame table (frame -> slot, u16) and the counters live in stable
//     memory at [40960, 65536) of page 0, bytes the MemoryManager never uses
//     (its header and bucket table end at 34848); a MemoryManager write there,
//     or past its own part, traps instead of touching chunk bytes.
// JavaScript reaches the chunk space through the same zero-copy path as the
// native SHA-256 (`certifiedDataSet(u8)` -> this module's function): a buffer
// whose length is not 32 + a multiple of 64 is a command, with a 40- or
// 48-byte header (op u32, header length u32, address u64, argument u64, all
// little-endian) and the data after it:
//   1 write the data at the address, 2 read into the data, 3 grow the space to
//   at least `argument` bytes (answers the capacity in the argument field),
//   4 info (capacity at 8, MemoryManager pages at 16, physical pages at 24),
//   5 headroom: when the MemoryManager has grown into the free slot kept
//   after its part, move the frame now after it to the end (the sweep timer
//   asks, so a user's call rarely pays for a copy).
// Reads and writes outside the space's capacity trap.
import binaryen from 'binaryen';

/** Where the frame table starts in physical stable memory (page 0, after the MemoryManager's bytes). */
export const SUPERBLOCK = 40960;
/** "FVRCHNK1" as a little-endian u64. */
const MAGIC = 0x314b4e4843525646n;
const TABLE = SUPERBLOCK + 64;
/** Frames the table can hold: 12,256 x 8 MiB = 95.75 GiB of chunk space. */
export const MAX_FRAMES = (65536 - TABLE) / 2;
const FRAME = 8 * 1024 * 1024;
const FRAME_PAGES = 128;
const SLOT_BASE = 65536;
const PAGE = 65536;

export const COMMAND_FUNCTION = 'forever_chunk_space_command';

interface Real {
  size: string;
  grow: string;
  read: string;
  write: string;
}

/** Replaces the module's four stable64 imports and adds the chunk space; returns the command function's name. */
export function addChunkSpace(m: binaryen.Module): string {
  const names: Partial<Record<keyof Real, string>> = {};
  for (let i = 0; i < m.getNumFunctions(); i++) {
    const info = binaryen.getFunctionInfo(m.getFunctionByIndex(i));
    if (info.module !== 'ic0') continue;
    for (const k of ['size', 'grow', 'read', 'write'] as const) if (info.base === `stable64_${k}`) names[k] = info.name;
    if (['stable_size', 'stable_grow', 'stable_read', 'stable_write'].includes(info.base ?? '')) {
      throw new Error(`the module imports ic0.${info.base}; only the stable64 calls are wrapped`);
    }
  }
  for (const k of ['size', 'grow', 'read', 'write'] as const) {
    if (!names[k]) throw new Error(`the module does not import ic0.stable64_${k}`);
  }
  const i32 = binaryen.i32;
  const i64 = binaryen.i64;
  const none = binaryen.none;
  const real: Real = { size: 'forever_real_stable64_size', grow: 'forever_real_stable64_grow', read: 'forever_real_stable64_read', write: 'forever_real_stable64_write' };
  for (const k of ['size', 'grow', 'read', 'write'] as const) m.removeFunction(names[k]!);
  m.addFunctionImport(real.size, 'ic0', 'stable64_size', none, i64);
  m.addFunctionImport(real.grow, 'ic0', 'stable64_grow', i64, i64);
  m.addFunctionImport(real.read, 'ic0', 'stable64_read', binaryen.createType([i64, i64, i64]), none);
  m.addFunctionImport(real.write, 'ic0', 'stable64_write', binaryen.createType([i64, i64, i64]), none);

  const G = { loaded: 'forever_cs_loaded', rpages: 'forever_cs_rpages', frames: 'forever_cs_frames', scratch: 'forever_cs_scratch' };
  m.addGlobal(G.loaded, i32, true, m.i32.const(0));
  m.addGlobal(G.rpages, i64, true, m.i64.const(0, 0));
  m.addGlobal(G.frames, i32, true, m.i32.const(0));
  m.addGlobal(G.scratch, i32, true, m.i32.const(0));
  const gget = (g: string, t: number) => m.global.get(g, t);
  const gset = (g: string, v: number) => m.global.set(g, v);
  const c32 = (v: number) => m.i32.const(v | 0);
  const c64 = (v: number | bigint) => {
    const b = BigInt(v);
    return m.i64.const(Number(b & 0xffffffffn) | 0, Number((b >> 32n) & 0xffffffffn) | 0);
  };
  const u64 = (v: number) => m.i64.extend_u(v);
  const scratch = () => gget(G.scratch, i32);
  const realSize = () => m.call(real.size, [], i64);
  const realRead = (dst: number, off: number, n: number) => m.call(real.read, [dst, off, n], none);
  const realWrite = (off: number, src: number, n: number) => m.call(real.write, [off, src, n], none);
  const F = {
    load: 'forever_cs_load',
    save: 'forever_cs_save',
    slot: 'forever_cs_slot',
    setSlot: 'forever_cs_set_slot',
    pslots: 'forever_cs_physical_slots',
    growSlots: 'forever_cs_grow_to_slots',
    newFrame: 'forever_cs_new_frame',
    copy: 'forever_cs_copy_slot',
    access: 'forever_cs_access',
  };
  const local = (i: number, t: number) => m.local.get(i, t);
  const set = (i: number, v: number) => m.local.set(i, v);
  /** Slots the MemoryManager's part spans (rpages >= 1 once page 0 exists). */
  const rslots = () => m.i32.wrap(m.i64.div_u(m.i64.add(m.i64.sub(gget(G.rpages, i64), c64(1)), c64(FRAME_PAGES - 1)), c64(FRAME_PAGES)));
  /** Physical address of slot s (i32) as i64. */
  const slotAddr = (s: number) => m.i64.add(c64(SLOT_BASE), m.i64.mul(u64(s), c64(FRAME)));

  // load(): reads the counters once per module instance (an upgrade starts a new one).
  m.addFunction(
    F.load,
    none,
    none,
    [i64],
    m.block(null, [
      m.if(gget(G.loaded, i32), m.return()),
      gset(G.loaded, c32(1)),
      // A page of the Wasm heap of its own, for headers and frame copies (the allocator takes later pages).
      set(0, m.i64.extend_s(m.memory.grow(c32(1)))),
      m.if(m.i64.lt_s(local(0, i64), c64(0)), m.unreachable()),
      gset(G.scratch, m.i32.wrap(m.i64.mul(local(0, i64), c64(PAGE)))),
      set(0, realSize()),
      m.if(m.i64.eqz(local(0, i64)), m.return()),
      realRead(u64(scratch()), c64(SUPERBLOCK), c64(24)),
      m.if(
        m.i64.eq(m.i64.load(0, 1, scratch()), c64(MAGIC)),
        m.block(null, [gset(G.rpages, m.i64.load(8, 1, scratch())), gset(G.frames, m.i32.load(16, 1, scratch()))]),
        m.block(null, [gset(G.rpages, local(0, i64)), gset(G.frames, c32(0))]),
      ),
    ]),
  );
  m.addFunction(
    F.save,
    none,
    none,
    [],
    m.block(null, [
      m.i64.store(0, 1, scratch(), c64(MAGIC)),
      m.i64.store(8, 1, scratch(), gget(G.rpages, i64)),
      m.i32.store(16, 1, scratch(), gget(G.frames, i32)),
      m.i32.store(20, 1, scratch(), c32(0)),
      realWrite(c64(SUPERBLOCK), u64(scratch()), c64(24)),
    ]),
  );
  // slot(frame) -> i32
  m.addFunction(
    F.slot,
    i32,
    i32,
    [],
    m.block(null, [realRead(u64(scratch()), m.i64.add(c64(TABLE), m.i64.mul(u64(local(0, i32)), c64(2))), c64(2)), m.return(m.i32.load16_u(0, 1, scratch()))], i32),
  );
  m.addFunction(
    F.setSlot,
    binaryen.createType([i32, i32]),
    none,
    [],
    m.block(null, [m.i32.store16(0, 1, scratch(), local(1, i32)), realWrite(m.i64.add(c64(TABLE), m.i64.mul(u64(local(0, i32)), c64(2))), u64(scratch()), c64(2))]),
  );
  // physical_slots() -> i32: whole slots the physical memory spans (a partial one counts).
  m.addFunction(
    F.pslots,
    none,
    i32,
    [i64],
    m.block(
      null,
      [
        set(0, realSize()),
        m.if(m.i64.le_u(local(0, i64), c64(1)), m.return(c32(0))),
        m.return(m.i32.wrap(m.i64.div_u(m.i64.add(m.i64.sub(local(0, i64), c64(1)), c64(FRAME_PAGES - 1)), c64(FRAME_PAGES)))),
      ],
      i32,
    ),
  );
  // grow_to_slots(n) -> ok: physical memory covers slots [0, n).
  m.addFunction(
    F.growSlots,
    i32,
    i32,
    [i64, i64],
    m.block(
      null,
      [
        set(1, m.i64.add(c64(1), m.i64.mul(u64(local(0, i32)), c64(FRAME_PAGES)))),
        set(2, realSize()),
        m.if(m.i64.ge_u(local(2, i64), local(1, i64)), m.return(c32(1))),
        m.return(m.i64.ne(m.call(real.grow, [m.i64.sub(local(1, i64), local(2, i64))], i64), c64(-1))),
      ],
      i32,
    ),
  );
  // new_frame() -> ok: one more 8 MiB frame at the physical end, one slot clear of the MemoryManager's
  // part (its next bucket then needs no copy).
  m.addFunction(
    F.newFrame,
    none,
    i32,
    [i32],
    m.block(
      null,
      [
        m.if(m.i32.ge_u(gget(G.frames, i32), c32(MAX_FRAMES)), m.return(c32(0))),
        // Page 0 (the MemoryManager's header, and the table) must exist.
        m.if(m.i64.eqz(gget(G.rpages, i64)), m.return(c32(0))),
        set(0, m.call(F.pslots, [], i32)),
        m.if(m.i32.le_u(local(0, i32), rslots()), set(0, m.i32.add(rslots(), c32(1)))),
        m.if(m.i32.eqz(m.call(F.growSlots, [m.i32.add(local(0, i32), c32(1))], i32)), m.return(c32(0))),
        m.call(F.setSlot, [gget(G.frames, i32), local(0, i32)], none),
        gset(G.frames, m.i32.add(gget(G.frames, i32), c32(1))),
        m.call(F.save, [], none),
        m.return(c32(1)),
      ],
      i32,
    ),
  );
  // copy_slot(from, to): 8 MiB through the scratch page.
  m.addFunction(
    F.copy,
    binaryen.createType([i32, i32]),
    none,
    [i64],
    m.block(null, [
      set(2, c64(0)),
      m.block('done', [
        m.loop(
          'pages',
          m.block(null, [
            m.br('done', m.i64.ge_u(local(2, i64), c64(FRAME))),
            realRead(u64(scratch()), m.i64.add(slotAddr(local(0, i32)), local(2, i64)), c64(PAGE)),
            realWrite(m.i64.add(slotAddr(local(1, i32)), local(2, i64)), u64(scratch()), c64(PAGE)),
            set(2, m.i64.add(local(2, i64), c64(PAGE))),
            m.br('pages'),
          ]),
        ),
      ]),
    ]),
  );
  // access(write, addr, ptr, n): frame by frame.
  // Locals: 0 write (i32), 1 addr (i64), 2 ptr (i32), 3 n (i32), 4 piece (i32), 5 within (i64), 6 phys (i64).
  m.addFunction(
    F.access,
    binaryen.createType([i32, i64, i32, i32]),
    none,
    [i32, i64, i64],
    m.block(null, [
      m.if(
        m.i64.gt_u(m.i64.add(local(1, i64), u64(local(3, i32))), m.i64.mul(u64(gget(G.frames, i32)), c64(FRAME))),
        m.unreachable(),
      ),
      m.block('done', [
        m.loop(
          'pieces',
          m.block(null, [
            m.br('done', m.i32.eqz(local(3, i32))),
            set(5, m.i64.and(local(1, i64), c64(FRAME - 1))),
            set(4, m.i32.wrap(m.i64.sub(c64(FRAME), local(5, i64)))),
            m.if(m.i32.lt_u(local(3, i32), local(4, i32)), set(4, local(3, i32))),
            set(6, m.i64.add(slotAddr(m.call(F.slot, [m.i32.wrap(m.i64.shr_u(local(1, i64), c64(23)))], i32)), local(5, i64))),
            m.if(
              local(0, i32),
              realWrite(local(6, i64), u64(local(2, i32)), u64(local(4, i32))),
              realRead(u64(local(2, i32)), local(6, i64), u64(local(4, i32))),
            ),
            set(1, m.i64.add(local(1, i64), u64(local(4, i32)))),
            set(2, m.i32.add(local(2, i32), local(4, i32))),
            set(3, m.i32.sub(local(3, i32), local(4, i32))),
            m.br('pieces'),
          ]),
        ),
      ]),
    ]),
  );

  // The MemoryManager's view. size: its own part.
  m.addFunction(names.size!, none, i64, [], m.block(null, [m.call(F.load, [], none), m.return(gget(G.rpages, i64))], i64));
  // grow(pages): frames in the slots it grows into move to the end first.
  // Locals: 0 pages, 1 old, 2 new, 3 needSlots (i32), 4 k (i32), 5 s (i32), 6 t (i32).
  m.addFunction(
    names.grow!,
    i64,
    i64,
    [i64, i64, i32, i32, i32, i32],
    m.block(
      null,
      [
        m.call(F.load, [], none),
        set(1, gget(G.rpages, i64)),
        set(2, m.i64.add(local(1, i64), local(0, i64))),
        m.if(
          m.i32.eqz(gget(G.frames, i32)),
          m.block(null, [
            m.if(m.i64.eq(m.call(real.grow, [local(0, i64)], i64), c64(-1)), m.return(c64(-1))),
            gset(G.rpages, local(2, i64)),
            m.return(local(1, i64)),
          ]),
        ),
        set(3, m.i32.wrap(m.i64.div_u(m.i64.add(m.i64.sub(local(2, i64), c64(1)), c64(FRAME_PAGES - 1)), c64(FRAME_PAGES)))),
        set(4, c32(0)),
        m.block('moved', [
          m.loop(
            'frames',
            m.block(null, [
              m.br('moved', m.i32.ge_u(local(4, i32), gget(G.frames, i32))),
              set(5, m.call(F.slot, [local(4, i32)], i32)),
              m.if(
                m.i32.lt_u(local(5, i32), local(3, i32)),
                m.block(null, [
                  set(6, m.call(F.pslots, [], i32)),
                  m.if(m.i32.eqz(m.call(F.growSlots, [m.i32.add(local(6, i32), c32(1))], i32)), m.return(c64(-1))),
                  m.call(F.copy, [local(5, i32), local(6, i32)], none),
                  m.call(F.setSlot, [local(4, i32), local(6, i32)], none),
                ]),
              ),
              set(4, m.i32.add(local(4, i32), c32(1))),
              m.br('frames'),
            ]),
          ),
        ]),
        m.if(
          m.i64.lt_u(realSize(), local(2, i64)),
          m.if(m.i64.eq(m.call(real.grow, [m.i64.sub(local(2, i64), realSize())], i64), c64(-1)), m.return(c64(-1))),
        ),
        gset(G.rpages, local(2, i64)),
        m.call(F.save, [], none),
        m.return(local(1, i64)),
      ],
      i64,
    ),
  );
  // write: only inside its own part, never into the frame table.
  m.addFunction(
    names.write!,
    binaryen.createType([i64, i64, i64]),
    none,
    [],
    m.block(null, [
      m.call(F.load, [], none),
      m.if(m.i64.gt_u(m.i64.add(local(0, i64), local(2, i64)), m.i64.mul(gget(G.rpages, i64), c64(PAGE))), m.unreachable()),
      m.if(
        m.i32.and(m.i64.lt_u(local(0, i64), c64(PAGE)), m.i64.gt_u(m.i64.add(local(0, i64), local(2, i64)), c64(SUPERBLOCK))),
        m.unreachable(),
      ),
      realWrite(local(0, i64), local(1, i64), local(2, i64)),
    ]),
  );
  // read: unchanged.
  m.addFunction(names.read!, binaryen.createType([i64, i64, i64]), none, [], realRead(local(0, i64), local(1, i64), local(2, i64)));

  // command(ptr, len). Locals: 0 ptr, 1 len, 2 op, 3 h, 4 k, 5 rs, 6 t.
  m.addFunction(
    COMMAND_FUNCTION,
    binaryen.createType([i32, i32]),
    none,
    [i32, i32, i32, i32, i32],
    m.block(null, [
      m.call(F.load, [], none),
      set(2, m.i32.load(0, 1, local(0, i32))),
      set(3, m.i32.load(4, 1, local(0, i32))),
      m.if(m.i32.or(m.i32.lt_u(local(3, i32), c32(40)), m.i32.gt_u(local(3, i32), local(1, i32))), m.unreachable()),
      m.if(
        m.i32.le_u(local(2, i32), c32(2)),
        m.block(null, [
          m.if(m.i32.eqz(local(2, i32)), m.unreachable()),
          m.call(
            F.access,
            [m.i32.eq(local(2, i32), c32(1)), m.i64.load(8, 1, local(0, i32)), m.i32.add(local(0, i32), local(3, i32)), m.i32.sub(local(1, i32), local(3, i32))],
            none,
          ),
          m.return(),
        ]),
      ),
      m.if(
        m.i32.eq(local(2, i32), c32(3)),
        m.block(null, [
          m.block('grown', [
            m.loop(
              'grow',
              m.block(null, [
                m.br('grown', m.i64.ge_u(m.i64.mul(u64(gget(G.frames, i32)), c64(FRAME)), m.i64.load(16, 1, local(0, i32)))),
                m.br('grown', m.i32.eqz(m.call(F.newFrame, [], i32))),
                m.br('grow'),
              ]),
            ),
          ]),
          m.i64.store(16, 1, local(0, i32), m.i64.mul(u64(gget(G.frames, i32)), c64(FRAME))),
          m.return(),
        ]),
      ),
      // 5 headroom: the frame right after the MemoryManager's part moves to the end (answers 1 if one moved).
      m.if(
        m.i32.eq(local(2, i32), c32(5)),
        m.block(null, [
          m.i64.store(16, 1, local(0, i32), c64(0)),
          m.if(m.i64.eqz(gget(G.rpages, i64)), m.return()),
          set(5, rslots()),
          set(4, c32(0)),
          m.block('found', [
            m.loop(
              'frames',
              m.block(null, [
                m.if(m.i32.ge_u(local(4, i32), gget(G.frames, i32)), m.return()),
                m.br('found', m.i32.eq(m.call(F.slot, [local(4, i32)], i32), local(5, i32))),
                set(4, m.i32.add(local(4, i32), c32(1))),
                m.br('frames'),
              ]),
            ),
          ]),
          set(6, m.call(F.pslots, [], i32)),
          m.if(m.i32.eqz(m.call(F.growSlots, [m.i32.add(local(6, i32), c32(1))], i32)), m.return()),
          m.call(F.copy, [local(5, i32), local(6, i32)], none),
          m.call(F.setSlot, [local(4, i32), local(6, i32)], none),
          m.i64.store(16, 1, local(0, i32), c64(1)),
          m.return(),
        ]),
      ),
      m.if(
        m.i32.eq(local(2, i32), c32(4)),
        m.block(null, [
          m.i64.store(8, 1, local(0, i32), m.i64.mul(u64(gget(G.frames, i32)), c64(FRAME))),
          m.i64.store(16, 1, local(0, i32), gget(G.rpages, i64)),
          m.i64.store(24, 1, local(0, i32), realSize()),
          m.return(),
        ]),
      ),
      m.unreachable(),
    ]),
  );
  return COMMAND_FUNCTION;
}
