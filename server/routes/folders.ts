// Folders (a memory is in at most one; set it with PUT /api/memories/:id {folder_id}):
//   PUT    /api/folders/:id {title}   create or rename (idempotent by id)
//   GET    /api/folders               list, each with memory_count and presence
//   GET    /api/folders/:id?limit&cursor&type&status&order   the folder, its presence and a page of its memories
//   DELETE /api/folders/:id           the memories stay, outside any folder -> {deleted}
import { Hono } from 'hono';
import type { ServerDeps } from '../deps.js';
import { notFound } from '../errors.js';
import type { AppEnv } from '../http/env.js';
import { validate } from '../http/validate.js';
import { folderInput, idParam, libraryQuery, listQuery } from '../schemas.js';
import { deleteFolder, getFolder, listFolders, upsertFolder } from '../services/folders.js';
import { listLibrary } from '../services/library.js';

export function folderRoutes(deps: ServerDeps) {
  return new Hono<AppEnv>()
    .get('/', validate('query', listQuery), async (c) => {
      const { limit, cursor } = c.req.valid('query');
      return c.json(await listFolders(deps, c.get('user').id, limit, cursor));
    })
    .put('/:id', validate('param', idParam), validate('json', folderInput), async (c) => {
      const r = await upsertFolder(deps, c.get('user').id, c.req.valid('param').id, c.req.valid('json').title);
      return c.json(r, r.created ? 201 : 200);
    })
    .get('/:id', validate('param', idParam), validate('query', libraryQuery.omit({ folder_id: true })), async (c) => {
      const userId = c.get('user').id;
      const { id } = c.req.valid('param');
      const folder = await getFolder(deps, userId, id);
      if (!folder) throw notFound('folder');
      const { limit, cursor, type, status, order } = c.req.valid('query');
      const page = await listLibrary(deps, userId, { limit, cursor, type, status, order, folderId: id });
      return c.json({ folder, presence: folder.presence, ...page });
    })
    .delete('/:id', validate('param', idParam), async (c) => {
      return c.json(await deleteFolder(deps, c.get('user').id, c.req.valid('param').id));
    });
}
