/**
 * The text form of a PostgreSQL composite value (a row), `("a",,"3")`, for an array parameter of a
 * row type (`$1::braid.commit_step[]`): `pg` sends a JS array of these strings as an array literal,
 * quoting each element again at that level. Every non-null field is double-quoted, with `"` and `\`
 * backslash-escaped, so commas, parentheses, spaces and empty strings survive; a null field is
 * empty and unquoted, which is how the row syntax spells NULL. Booleans are `t` / `f`.
 * See "Composite Value Input" in the PostgreSQL manual.
 */
export function recordLiteral(fields: readonly unknown[]): string {
  let text = '(';
  for (let i = 0; i < fields.length; i++) {
    if (i > 0) text += ',';
    const field = fields[i];
    if (field === null || field === undefined) continue;
    const value = typeof field === 'boolean' ? (field ? 't' : 'f') : String(field);
    text += `"${value.replace(/["\\]/g, '\\$&')}"`;
  }
  return `${text})`;
}
