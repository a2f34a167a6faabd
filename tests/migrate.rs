//! Issue 17, goal 3: the schema is versioned. `init` (or the first command on an empty
//! database) creates the tables at the current version; every other command reads the
//! version row and refuses a store made before it ("run `waymark … migrate`", exit 4,
//! nothing written) or by a newer waymark ("too old"); `waymark migrate` upgrades an
//! older store, keeping its events, and changes nothing when run again.

#[macro_use]
mod common;
use common::*;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// The stored event rows, read with SQL (an older store refuses `export`).
fn events(env: &Env) -> Vec<(i64, String, String)> {
    let q = format!(
        "SELECT sequence, {p}, {m} FROM events ORDER BY sequence",
        p = env.payload_text(),
        m = env.payload_text().replace("payload", "metadata")
    );
    runtime().block_on(async {
        match env.kind {
            Kind::Sqlite => {
                let pool = sqlx::SqlitePool::connect(&env.url).await.unwrap();
                let rows = sqlx::query_as(&q).fetch_all(&pool).await.unwrap();
                pool.close().await;
                rows
            }
            Kind::Postgres => {
                let pool = sqlx::PgPool::connect(&env.url).await.unwrap();
                let rows = sqlx::query_as(&q).fetch_all(&pool).await.unwrap();
                pool.close().await;
                rows
            }
        }
    })
}

fn set_m1(env: &Env) -> std::process::Output {
    env.run(&[
        "--as",
        "bob",
        "milestone",
        "set",
        "M1",
        "not_started",
        "--reason",
        "because the council was dissolved",
    ])
}

fn index_def(env: &Env) -> String {
    runtime().block_on(async {
        let pool = sqlx::PgPool::connect(&env.url).await.unwrap();
        let def: String = sqlx::query_scalar(
            "SELECT indexdef FROM pg_indexes WHERE indexname = 'waymark_events_sig'",
        )
        .fetch_one(&pool)
        .await
        .unwrap();
        pool.close().await;
        def
    })
}

fn the_schema_is_versioned_and_migrated(kind: Kind) {
    let env = Env::new(kind);
    // `init` on an empty database creates the tables at the current version.
    env.history();
    let at = env.json(&["migrate"]);
    assert_eq!(at, serde_json::json!({"from": 3, "to": 3}), "{at}");
    assert!(env.ok(&["migrate"]).contains("at schema version 3 already"));
    let m1_history = env.ok(&["history", "M1"]);
    assert!(m1_history.contains("M1"), "{m1_history}");

    // A store made before the version row (and, on PostgreSQL, with rule 7's index
    // keyed on three columns, as it was), without version 3's id index and with the
    // type index keyed on season.
    env.sql(&[
        "DROP TABLE waymark_schema",
        "DROP TABLE waymark_history_ids",
        "DROP INDEX waymark_history_type_seq",
        "CREATE INDEX waymark_history_type ON waymark_history (ledger, event_type, season)",
    ]);
    if kind == Kind::Postgres {
        env.sql(&[
            "DROP INDEX waymark_events_sig",
            "CREATE INDEX waymark_events_sig ON events (aggregate_type, aggregate_id, (payload->>'sig'))",
        ]);
    }
    let before = events(&env);
    for args in [&["status"][..], &["history"], &["verify"]] {
        let err = env.fails(4, args);
        assert!(
            err.contains("schema version 1") && err.contains("migrate`"),
            "{args:?}: {err}"
        );
    }
    let out = set_m1(&env);
    assert_eq!(out.status.code(), Some(4), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("migrate`"),
        "{}",
        text(&out.stderr)
    );

    // `migrate` upgrades it; the events are the same bytes, and everything works.
    let up = env.json(&["migrate"]);
    assert_eq!(up, serde_json::json!({"from": 1, "to": 3}), "{up}");
    assert_eq!(events(&env), before, "migrate changed the events");
    // The id index was filled from the stored audit rows: a milestone's history is
    // what it was.
    assert_eq!(env.ok(&["history", "M1"]), m1_history);
    if kind == Kind::Postgres {
        let def = index_def(&env);
        assert!(def.contains("||"), "the index keeps its old key: {def}");
    }
    let (code, report) = env.verify();
    assert_eq!(code, 0, "{report}");
    let out = set_m1(&env);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let status = env.json(&["status"]);
    let m1 = status["milestones"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == "M1");
    assert_eq!(m1.unwrap()["status"], "not_started", "{status}");
    // Again: nothing to do.
    assert_eq!(
        env.json(&["migrate"]),
        serde_json::json!({"from": 3, "to": 3})
    );

    // A version 2 store (before the id index): refused, then migrated.
    let m1_history = env.ok(&["history", "M1"]);
    env.sql(&[
        "DROP TABLE waymark_history_ids",
        "UPDATE waymark_schema SET version = 2",
    ]);
    let err = env.fails(4, &["history", "M1"]);
    assert!(
        err.contains("schema version 2") && err.contains("migrate`"),
        "{err}"
    );
    let up = env.json(&["migrate"]);
    assert_eq!(up, serde_json::json!({"from": 2, "to": 3}), "{up}");
    assert_eq!(env.ok(&["history", "M1"]), m1_history);
    let (code, report) = env.verify();
    assert_eq!(code, 0, "{report}");

    // A store from a newer waymark: refused, migrate too, nothing written.
    env.sql(&["UPDATE waymark_schema SET version = 99"]);
    let before = events(&env);
    for args in [&["status"][..], &["migrate"]] {
        let err = env.fails(4, args);
        assert!(
            err.contains("schema version 99") && err.contains("too old"),
            "{args:?}: {err}"
        );
    }
    let out = env.run(&[
        "--as",
        "bob",
        "milestone",
        "set",
        "M1",
        "in_progress",
        "--reason",
        "because it regressed",
    ]);
    assert_eq!(out.status.code(), Some(4), "{}", text(&out.stderr));
    env.sql(&["UPDATE waymark_schema SET version = 3"]);
    assert_eq!(events(&env), before);
}

/// `migrate` on an empty database creates the tables, and `init` then uses them.
fn migrate_creates_an_empty_store(kind: Kind) {
    let env = Env::new(kind);
    if kind == Kind::Sqlite {
        // Only `init` creates a SQLite file; migrate on a missing one says so.
        let err = env.fails(4, &["migrate"]);
        assert!(err.contains("no database at"), "{err}");
        return;
    }
    assert_eq!(
        env.json(&["migrate"]),
        serde_json::json!({"from": null, "to": 3})
    );
    env.history();
    assert_eq!(env.verify().0, 0);
}

on_both_backends!(
    the_schema_is_versioned_and_migrated,
    migrate_creates_an_empty_store
);
