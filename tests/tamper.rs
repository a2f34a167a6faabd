//! Tampering with the stored rows, as someone with write access to the database would:
//! `verify` must catch each change at the exact first bad seq, on both backends.

mod common;
use common::*;
use waymark_events::{parse_strict, sign, Event, Hash};

/// A ledger with the common history (seq 1..=15).
fn ledger(kind: Kind) -> Env {
    let env = Env::new(kind);
    env.history();
    let (code, report) = env.verify();
    assert_eq!((code, report["checked"].as_u64()), (0, Some(15)));
    env
}

#[track_caller]
fn caught(env: &Env, seq: u64, problem: &str) {
    let (code, report) = env.verify();
    assert_eq!(code, 3, "{report}");
    assert_eq!(report["ok"], false);
    assert_eq!(
        (report["first_bad_seq"].as_u64(), report["problem"].as_str()),
        (Some(seq), Some(problem)),
        "{report}"
    );
    assert_eq!(report["checked"].as_u64(), Some(seq - 1), "{report}");
    let human = env.fails(3, &["verify"]);
    assert!(human.is_empty() || human.contains("verif"), "{human}");
}

fn replace_in(env: &Env, seq: u64, from: &str, to: &str) {
    // The stored text may be compact (`"key":"value"`, how Waymark writes it) or
    // spaced (`"key": "value"`, jsonb's text form): edit whichever is there.
    let spaced = |s: &str| s.replace("\":\"", "\": \"");
    let col = env.payload_text();
    let once = format!("replace({col}, '{from}', '{to}')");
    let both = format!("replace({once}, '{}', '{}')", spaced(from), spaced(to));
    let new = env.as_json(&both);
    env.sql(&[&format!(
        "UPDATE events SET payload = {new} WHERE sequence = {seq}"
    )]);
}

fn events(env: &Env) -> Vec<(Event, Hash)> {
    let export = env.export();
    export
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| Event::from_export_value(&parse_strict(l).unwrap()).unwrap())
        .collect()
}

fn each_backend(f: impl Fn(Kind)) {
    f(Kind::Sqlite);
    f(Kind::Postgres);
}

#[test]
fn an_edited_payload_is_caught_at_its_seq() {
    each_backend(|k| {
        let env = ledger(k);
        replace_in(&env, 10, "because started", "because faked");
        caught(&env, 10, "hash_mismatch");
    });
}

#[test]
fn a_changed_actor_is_caught_at_its_seq() {
    each_backend(|k| {
        let env = ledger(k);
        replace_in(&env, 10, "\"actor\":\"bob\"", "\"actor\":\"rita\"");
        caught(&env, 10, "hash_mismatch");
    });
}

#[test]
fn a_changed_recording_time_is_caught_at_its_seq() {
    each_backend(|k| {
        let env = ledger(k);
        replace_in(&env, 10, "\"recorded_at\":\"2", "\"recorded_at\":\"1");
        caught(&env, 10, "hash_mismatch");
    });
}

#[test]
fn a_deleted_row_is_caught_as_a_gap() {
    each_backend(|k| {
        let env = ledger(k);
        env.sql(&["DELETE FROM events WHERE sequence = 10"]);
        caught(&env, 10, "seq_gap");
    });
}

#[test]
fn two_swapped_rows_are_caught_at_the_first() {
    each_backend(|k| {
        let env = ledger(k);
        env.sql(&[
            "UPDATE events SET sequence = 1000000 WHERE sequence = 9",
            "UPDATE events SET sequence = 9 WHERE sequence = 10",
            "UPDATE events SET sequence = 10 WHERE sequence = 1000000",
        ]);
        caught(&env, 9, "seq_gap");
    });
}

#[test]
fn a_forged_row_appended_is_caught_at_its_seq() {
    each_backend(|k| {
        let env = ledger(k);
        let all = events(&env);
        let (last, last_hash) = all.last().unwrap().clone();
        // Claims to be rita advancing tech, with a correct link, signed by another key.
        let mut forged = all[12].0.clone();
        forged.seq = 16;
        forged.prev = last_hash;
        forged.recorded_at = last.recorded_at.clone();
        forged.statement.issued_at = "2026-06-01T00:00:00.000000Z".into();
        forged.sig = sign(
            &forged.statement,
            &ed25519_dalek::SigningKey::from_bytes(&[66; 32]),
        );
        env.write_row(16, &forged, &forged.hash(), true);
        caught(&env, 16, "bad_signature");
    });
}

#[test]
fn a_replayed_row_appended_is_caught_at_its_seq() {
    each_backend(|k| {
        let env = ledger(k);
        let all = events(&env);
        let (last, last_hash) = all.last().unwrap().clone();
        // seq 11 (M1 achieved → in_progress) again, genuinely signed, correctly linked:
        // the rules alone would not mind after M1 is achieved again, so re-achieve it.
        let mut replay = all[10].0.clone();
        assert_eq!(replay.seq, 11);
        replay.seq = 16;
        replay.prev = last_hash;
        replay.recorded_at = last.recorded_at.clone();
        env.write_row(16, &replay, &replay.hash(), true);
        caught(&env, 16, "rule_violation");
    });
}

#[test]
fn rows_dropped_from_the_end_are_caught_as_truncated() {
    each_backend(|k| {
        let env = ledger(k);
        env.sql(&["DELETE FROM events WHERE sequence >= 14"]);
        caught(&env, 14, "truncated");
    });
}

#[test]
fn a_rewritten_time_with_a_recomputed_hash_is_caught_at_the_next_seq() {
    each_backend(|k| {
        let env = ledger(k);
        let all = events(&env);
        // seq 7 moved back to seq 6's time: still in order, signature intact.
        let mut e = all[6].0.clone();
        e.recorded_at = all[5].0.recorded_at.clone();
        assert_ne!(e.hash(), all[6].1);
        env.write_row(7, &e, &e.hash(), false);
        caught(&env, 8, "prev_mismatch");
    });
}

#[test]
fn a_status_change_written_around_the_rules_is_caught() {
    each_backend(|k| {
        let env = ledger(k);
        let all = events(&env);
        let (last, last_hash) = all.last().unwrap().clone();
        // A genuinely signed statement the aggregate would refuse (M2 achieved while M1
        // is not), chained in by hand with the writer's own key.
        let keys = env.keys();
        let bob = std::fs::read_to_string(keys.join("bob.key")).unwrap();
        use base64::Engine;
        let seed: [u8; 32] = base64::engine::general_purpose::STANDARD
            .decode(bob.trim())
            .unwrap()
            .try_into()
            .unwrap();
        let mut e = all[9].0.clone();
        if let waymark_events::Payload::MilestoneStatusChanged(p) = &mut e.statement.payload {
            p.from = "in_progress".into();
            p.to = "achieved".into();
            p.evidence = vec!["https://example.org/x".into()];
        }
        e.seq = 16;
        e.prev = last_hash;
        e.recorded_at = last.recorded_at.clone();
        e.sig = sign(&e.statement, &ed25519_dalek::SigningKey::from_bytes(&seed));
        env.write_row(16, &e, &e.hash(), true);
        let (_, report) = env.verify();
        assert!(
            report["detail"].as_str().unwrap().contains("R3-status"),
            "{report}"
        );
        caught(&env, 16, "rule_violation");
    });
}

#[test]
fn an_edited_tree_node_in_a_row_is_caught_at_its_seq() {
    // Row 8 keeps the nodes of levels 1..=3 its append completed; roots, proofs and
    // checkpoints are read from them, so `verify` (and so `publish`) checks them.
    each_backend(|k| {
        let env = ledger(k);
        let zero = "0".repeat(64);
        env.sql(&[&match k {
            Kind::Sqlite => format!(
                "UPDATE events SET metadata = json_set(metadata, '$.nodes', '{zero},{zero},{zero}') WHERE sequence = 8"
            ),
            Kind::Postgres => format!(
                "UPDATE events SET metadata = jsonb_set(metadata::jsonb, '{{nodes}}', '\"{zero},{zero},{zero}\"')::json WHERE sequence = 8"
            ),
        }]);
        let (code, report) = env.verify();
        assert_eq!(code, 3, "{report}");
        assert_eq!(
            (report["first_bad_seq"].as_u64(), report["problem"].as_str()),
            (Some(8), Some("hash_mismatch")),
            "{report}"
        );
        assert!(
            report["detail"].as_str().unwrap().contains("tree nodes"),
            "{report}"
        );
    });
}

#[test]
fn an_edited_frontier_in_the_snapshot_is_caught() {
    each_backend(|k| {
        let env = ledger(k);
        let zero = "0".repeat(64);
        env.sql(&[&match k {
            Kind::Sqlite => format!(
                "UPDATE snapshots SET payload = json_set(payload, '$.frontier.hashes[0]', '{zero}')"
            ),
            Kind::Postgres => format!(
                "UPDATE snapshots SET payload = jsonb_set(payload::jsonb, '{{frontier,hashes,0}}', '\"{zero}\"')::json"
            ),
        }]);
        let (code, report) = env.verify();
        assert_eq!(
            (code, report["problem"].as_str()),
            (3, Some("hash_mismatch")),
            "{report}"
        );
        assert!(
            report["detail"].as_str().unwrap().contains("frontier"),
            "{report}"
        );
        // publish signs nothing over it.
        let err = env.fails(3, &["publish", env.path("site").to_str().unwrap()]);
        assert!(err.contains("nothing published"), "{err}");
    });
}
