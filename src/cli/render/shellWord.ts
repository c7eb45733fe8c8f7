/**
 * One argument as a POSIX shell reads it back: as it is when it has nothing the shell would split
 * or expand, else in single quotes (a single quote inside becomes '\''). For commands the CLI
 * prints for the user to run, such as the next page of `braid runs`.
 */
export function shellWord(value: string): string {
  if (/^[\w@%+=:,./-]+$/.test(value)) return value;
  return `'${value.replace(/'/g, `'\\''`)}'`;
}
