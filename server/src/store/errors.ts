/** PostgreSQL's unique_violation (23505), also what PGlite reports: another row has that key. */
export function isUniqueViolation(error: unknown): boolean {
  return (error as { code?: string } | null)?.code === '23505';
}
