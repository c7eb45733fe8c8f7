/**
 * Connection strings: checked before pg sees them (pg accepts almost any text and fails later
 * with a less helpful message), and shown only with the password replaced by `***`.
 */

/** The URL with its password (in the user part or a `password` parameter) replaced by `***`. */
export function redactConnectionString(connectionString: string): string {
  try {
    const url = new URL(connectionString);
    if (url.password) url.password = '***';
    if (url.searchParams.has('password')) url.searchParams.set('password', '***');
    return url.href.replace('password=%2A%2A%2A', 'password=***');
  } catch {
    // Not a URL: hide whatever sits between the first ':' after '//' and the '@'.
    return connectionString.replace(/(\/\/[^:/@]*:)[^@]*@/, '$1***@');
  }
}

/** Why `connectionString` is not a PostgreSQL URL, or undefined when it is one. */
export function connectionStringProblem(connectionString: string): string | undefined {
  let url: URL;
  try {
    url = new URL(connectionString);
  } catch {
    return 'the connection string is not a URL';
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    return `the scheme is "${url.protocol}", not "postgres:" or "postgresql:"`;
  }
  if (!url.hostname && !url.searchParams.has('host')) return 'the connection string names no host';
  return undefined;
}
