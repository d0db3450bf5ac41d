// Time formats shared by the services: ISO-8601 UTC strings in the database
// (sortable as text on SQLite) and the UTC billing month `YYYY-MM`.
export const toIso = (d: Date): string => d.toISOString();
export const billingMonth = (d: Date): string => d.toISOString().slice(0, 7);
