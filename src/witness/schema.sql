-- The witness's state (src/witness/state.rs): who it is, the logs it accepts with
-- the latest checkpoint it cosigned for each, and everything it ever cosigned.
-- The invariants a witness promises are also enforced here, by triggers, so that no
-- bug above can break them: a log's cosigned size never goes down, its key never
-- changes, the cosigned table is append-only, and it never holds two roots for one
-- size of one log.

CREATE TABLE IF NOT EXISTS witness (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    name TEXT NOT NULL,
    -- name+keyid+base64(0x04 || key): checked against witness.key on every open
    vkey TEXT NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE IF NOT EXISTS logs (
    origin TEXT PRIMARY KEY,
    -- the log's verifier key (type 0x01), whose name is the origin
    vkey TEXT NOT NULL,
    -- the latest cosigned checkpoint: 0 and NULLs until the first
    size INTEGER NOT NULL DEFAULT 0 CHECK (size >= 0),
    root BLOB CHECK (root IS NULL OR length(root) = 32),
    note TEXT,
    cosigned_at INTEGER,
    added_at INTEGER NOT NULL
) STRICT;

CREATE TABLE IF NOT EXISTS cosigned (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    origin TEXT NOT NULL REFERENCES logs (origin),
    size INTEGER NOT NULL CHECK (size >= 0),
    root BLOB NOT NULL CHECK (length(root) = 32),
    -- the checkpoint as submitted (with the log's signature)
    note TEXT NOT NULL,
    -- the signature line(s) returned
    cosignature TEXT NOT NULL,
    cosigned_at INTEGER NOT NULL
) STRICT;

CREATE INDEX IF NOT EXISTS cosigned_by_size ON cosigned (origin, size);

-- Checkpoints signed by a log's key that the witness refused because they contradict
-- what it cosigned (another root at a size it cosigned, or no consistency proof from
-- it): evidence of a split view or a rewritten log (tlog-witness allows keeping it).
-- At most 1,000 per log, so a log cannot fill the disk.
CREATE TABLE IF NOT EXISTS evidence (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    origin TEXT NOT NULL REFERENCES logs (origin),
    old_size INTEGER NOT NULL,
    size INTEGER NOT NULL,
    root BLOB NOT NULL,
    note TEXT NOT NULL,
    proof TEXT NOT NULL,
    reason TEXT NOT NULL,
    received_at INTEGER NOT NULL
) STRICT;

CREATE TRIGGER IF NOT EXISTS cosigned_no_update BEFORE UPDATE ON cosigned
BEGIN
    SELECT RAISE(ABORT, 'cosigned is append-only');
END;

CREATE TRIGGER IF NOT EXISTS cosigned_no_delete BEFORE DELETE ON cosigned
BEGIN
    SELECT RAISE(ABORT, 'cosigned is append-only');
END;

CREATE TRIGGER IF NOT EXISTS cosigned_one_root_per_size BEFORE INSERT ON cosigned
WHEN EXISTS (
    SELECT 1 FROM cosigned
    WHERE origin = NEW.origin AND size = NEW.size AND root <> NEW.root
)
BEGIN
    SELECT RAISE(ABORT, 'another root was cosigned at this size');
END;

CREATE TRIGGER IF NOT EXISTS logs_never_backwards BEFORE UPDATE OF size ON logs
WHEN NEW.size < OLD.size
BEGIN
    SELECT RAISE(ABORT, 'a log''s cosigned size never goes down');
END;

CREATE TRIGGER IF NOT EXISTS logs_key_fixed BEFORE UPDATE OF origin, vkey ON logs
WHEN NEW.origin IS NOT OLD.origin OR NEW.vkey IS NOT OLD.vkey
BEGIN
    SELECT RAISE(ABORT, 'a log''s origin and key never change');
END;

CREATE TRIGGER IF NOT EXISTS logs_no_delete BEFORE DELETE ON logs
BEGIN
    SELECT RAISE(ABORT, 'a log''s state is never deleted');
END;

-- The head a log is at is a checkpoint the witness cosigned (its row goes in first).
CREATE TRIGGER IF NOT EXISTS logs_head_was_cosigned BEFORE UPDATE OF size, root ON logs
WHEN NOT EXISTS (
    SELECT 1 FROM cosigned
    WHERE origin = NEW.origin AND size = NEW.size AND root = NEW.root
)
BEGIN
    SELECT RAISE(ABORT, 'a log''s head must be a checkpoint the witness cosigned');
END;

CREATE TRIGGER IF NOT EXISTS witness_fixed_u BEFORE UPDATE ON witness
BEGIN
    SELECT RAISE(ABORT, 'the witness''s name and key never change');
END;

CREATE TRIGGER IF NOT EXISTS witness_fixed_d BEFORE DELETE ON witness
BEGIN
    SELECT RAISE(ABORT, 'the witness''s name and key never change');
END;
