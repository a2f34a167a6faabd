-- Waymark's tables on SQLite, created on an empty store and by
-- `waymark migrate` (storage/version.rs runs this file; every statement is idempotent).
--
-- events and snapshots: the layout of sqlite-es's own migration, with one change: the
-- snapshot table's key is (aggregate_type, aggregate_id), not (…, last_sequence). There
-- is one snapshot row per aggregate, updated on every commit; with last_sequence in the
-- key each update moved the row in the index (issue 6: on PostgreSQL an inclusion proof
-- at 100k events took 183 ms as dead row versions piled up).
CREATE TABLE IF NOT EXISTS events (
  aggregate_type text NOT NULL, aggregate_id text NOT NULL,
  sequence integer CHECK (sequence >= 0) NOT NULL,
  event_type text NOT NULL, event_version text NOT NULL,
  payload text NOT NULL, metadata text NOT NULL,
  PRIMARY KEY (aggregate_type, aggregate_id, sequence)) STRICT;
CREATE TABLE IF NOT EXISTS snapshots (
  aggregate_type text NOT NULL, aggregate_id text NOT NULL,
  last_sequence integer CHECK (last_sequence >= 0) NOT NULL,
  current_snapshot integer CHECK (current_snapshot >= 0) NOT NULL,
  payload text NOT NULL,
  PRIMARY KEY (aggregate_type, aggregate_id)) STRICT;
-- Rule 7 (no replayed signature) without a replay: storage/signatures.rs.
CREATE INDEX IF NOT EXISTS waymark_events_sig
  ON events (aggregate_type, aggregate_id, json_extract(payload, '$.sig'));

-- The read models (read/): the cqrs-es view, the audit trail, status checkpoints.
CREATE TABLE IF NOT EXISTS waymark_views (
  view_id text PRIMARY KEY NOT NULL, version integer NOT NULL, payload text NOT NULL);
-- waymark_history.milestones: the ids a row names, `,`-separated with a `,` at both ends:
-- milestone ids as they are, decision and body ids tagged `decision:` and `body:` (SPEC
-- section 13's `history ID`; ids have no `:`, so a tag never reads as a milestone).
CREATE TABLE IF NOT EXISTS waymark_history (
  ledger text NOT NULL, seq integer NOT NULL, recorded_at text NOT NULL,
  actor text NOT NULL, event_type text NOT NULL, season integer,
  milestones text NOT NULL, row text NOT NULL, PRIMARY KEY (ledger, seq));
CREATE TABLE IF NOT EXISTS waymark_status_checkpoints (
  ledger text NOT NULL, seq integer NOT NULL, fold text NOT NULL,
  PRIMARY KEY (ledger, seq));
CREATE INDEX IF NOT EXISTS waymark_history_actor ON waymark_history (ledger, actor, seq);
-- Schema version 3 (issue 17, goal 2): the audit log filtered by type is read newest
-- first along (ledger, event_type, seq), where (ledger, event_type, season) made each
-- page sort or walk every row of the ledger; and each id a row names (its `milestones`
-- column split at `,`) has a row in waymark_history_ids, so a milestone's page walks
-- that milestone's rows only (`LIKE '%,M3,%'` walked the whole ledger backwards until
-- 50 matched: at 1M events, a milestone updated once cost a read of every row).
DROP INDEX IF EXISTS waymark_history_type;
CREATE INDEX IF NOT EXISTS waymark_history_type_seq ON waymark_history (ledger, event_type, seq);
CREATE TABLE IF NOT EXISTS waymark_history_ids (
  ledger text NOT NULL, id text NOT NULL, seq integer NOT NULL,
  PRIMARY KEY (ledger, id, seq)) WITHOUT ROWID;
-- The ids of a range of seqs (rebuild's count and refill of a page, a replaced row's
-- ids): without it each was a walk of every id of the ledger, and a rebuild at 1M
-- events checked its intact pages at a third of the rate it had at 100k.
CREATE INDEX IF NOT EXISTS waymark_history_ids_seq ON waymark_history_ids (ledger, seq);
-- The ids of the audit rows stored before version 3 (`waymark migrate`; nothing on an
-- empty store). After it, each batch of audit rows fills its own (read/sync.rs).
WITH RECURSIVE split(ledger, seq, rest, id) AS (
    SELECT ledger, seq, substr(milestones, 2), '' FROM waymark_history
    UNION ALL
    SELECT ledger, seq, substr(rest, instr(rest, ',') + 1), substr(rest, 1, instr(rest, ',') - 1)
      FROM split WHERE rest <> '')
  INSERT INTO waymark_history_ids (ledger, id, seq)
  SELECT ledger, id, seq FROM split WHERE id <> ''
  ON CONFLICT (ledger, id, seq) DO NOTHING;
CREATE INDEX IF NOT EXISTS waymark_history_season ON waymark_history (ledger, season, seq);
CREATE INDEX IF NOT EXISTS waymark_history_time ON waymark_history (ledger, recorded_at);

-- Checkpoints cosigned by witnesses (`publish --witness`, storage/witnessed.rs): the note
-- with the log's signature and the cosignatures, and the witness keys (newline-separated
-- verifier strings) they were checked with. The dashboard shows the latest; `serve`'s
-- tlog-tiles `checkpoint` carries its cosignatures.
CREATE TABLE IF NOT EXISTS waymark_witnessed (
  ledger text NOT NULL, tree_size integer NOT NULL, note text NOT NULL,
  witnesses text NOT NULL, published_at text NOT NULL,
  PRIMARY KEY (ledger, tree_size)) STRICT;

-- The schema's version, one row (storage/version.rs): read at every start-up instead of
-- running this file, which runs only on an empty store and in `waymark migrate`.
CREATE TABLE IF NOT EXISTS waymark_schema (
  id integer PRIMARY KEY CHECK (id = 1), version integer NOT NULL);
