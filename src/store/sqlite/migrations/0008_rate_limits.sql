-- Braid schema, version 8: rate limits (`rateLimit` on a workflow or a step).

-- One row per (limit, key): its GCRA state, the theoretical arrival time (epoch ms, fractional:
-- the emission interval period / limit need not be whole milliseconds). Written only by
-- takeRateLimit, in its own transaction, before the start it grants is acted on. A key that stays
-- idle keeps its row (a few bytes); it counts for nothing once `tat` is past. interval_ms: the
-- emission interval `tat` was computed with; when the limit is changed, the time still owed is
-- rescaled to the new interval (10 starts owed at 1/s become 10 owed at 100/s, 0.1 s).
CREATE TABLE rate_limits (
  name TEXT NOT NULL,
  key TEXT NOT NULL,
  tat REAL NOT NULL,
  interval_ms REAL NOT NULL,
  PRIMARY KEY (name, key)
) WITHOUT ROWID;

-- Limits changed at run time (`executor.setRateLimit`): they override the definition's limit and
-- period until reset. `rate_limit` because LIMIT is a keyword.
CREATE TABLE rate_limit_settings (
  name TEXT PRIMARY KEY NOT NULL,
  rate_limit INTEGER NOT NULL,
  period_ms REAL NOT NULL,
  updated_at INTEGER NOT NULL
);
