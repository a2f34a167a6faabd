//! Golden output of the dashboard: the exact bytes of `waymark serve`'s pages and of
//! the static pages `waymark site --out` writes, for a ledger recorded with fixed keys
//! and a fixed clock (so hashes, signatures and the checkpoint are the same on every
//! run and on both backends), whose free-text fields — titles, layer and phase ids,
//! reasons, evidence links — carry quotes, apostrophes, markup, `<script>`, CR/LF, tab
//! and control characters.
//!
//! The files in `tests/fixtures/dashboard/` were written by the renderer as it was
//! before the dashboard moved to a template engine, so any change to the bytes a reader
//! gets shows up here as a failing test. They were rewritten once, by the move to the
//! one escaper of `waymark_projections::html`: it writes CR as LF and control
//! characters and U+FFFE as U+FFFD, which the dashboard's own escaper let through;
//! every other byte stayed as it was. After a deliberate change to the output, rewrite
//! them with `WAYMARK_BLESS=1 cargo test --test dashboard` and review the diff.

#[macro_use]
mod common;
use common::served::serve;
use common::*;
use ed25519_dalek::SigningKey;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use waymark::{Clock, Db, Signed, Waymark};
use waymark_events::*;

/// Appended to free text: an apostrophe and quotes, markup and a script, an
/// ampersand, CR/LF and tab, control characters and a non-character.
const HOSTILE: &str = " it's <script>alert(\"x\")</script> & a|b\r\nc\td\u{1}e\u{7f}f\u{FFFE}g";
/// A layer id and a phase id are free strings in a framework: markup in both.
const LAYER: &str = "te\"ch<'1>&";
const PHASE: &str = "B&\"C'<";
const ORIGIN: &str = "example.org/test";
const HOST: &str = "dash.example";

const ALICE: [u8; 32] = [11; 32];
const BOB: [u8; 32] = [12; 32];
const RITA: [u8; 32] = [13; 32];
const LOG: [u8; 32] = [14; 32];

fn fixed_clock() -> Clock {
    let t = Arc::new(AtomicI64::new(1_750_000_000_000_000));
    Arc::new(move || t.fetch_add(1_000_000, Ordering::SeqCst))
}

fn text(s: &str) -> String {
    format!("{s}{HOSTILE}")
}

/// Writes `seed` as the key file `name` of the env's key store.
fn key_file(env: &Env, name: &str, seed: [u8; 32]) {
    use base64::Engine;
    std::fs::create_dir_all(env.keys()).unwrap();
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(env.keys().join(format!("{name}.key")))
        .unwrap();
    writeln!(
        f,
        "{}",
        base64::engine::general_purpose::STANDARD.encode(seed)
    )
    .unwrap();
}

/// Signs statements with fixed keys and issue times.
struct Author {
    ledger: &'static str,
    n: i64,
}

impl Author {
    fn sign(&mut self, who: &str, payload: Payload) -> Signed {
        self.n += 1;
        let seed = match who {
            "alice" => ALICE,
            "bob" => BOB,
            _ => RITA,
        };
        let at = format_timestamp(1_749_990_000_000_000 + self.n * 1_000_000);
        let statement = Statement::new(self.ledger, who, &at, payload);
        Signed {
            sig: sign(&statement, &SigningKey::from_bytes(&seed)),
            statement,
        }
    }
}

fn opened(title: &str, layers: Vec<LayerDef>, phases: &[&str]) -> Payload {
    Payload::LedgerOpened(LedgerOpened {
        title: title.into(),
        origin: ORIGIN.into(),
        log_key: verifier_key(ORIGIN, &SigningKey::from_bytes(&LOG).verifying_key()),
        founder: Founder {
            actor: "alice".into(),
            name: "Alice".into(),
            public_key: encode_public_key(&SigningKey::from_bytes(&ALICE).verifying_key()),
        },
        framework: Framework {
            id: "tiny".into(),
            version: "1".into(),
            title: text("Tiny framework"),
            principles: vec![],
            layers,
            phases: phases
                .iter()
                .map(|p| PhaseDef {
                    id: p.to_string(),
                    title: text("Phase"),
                    description: text("described"),
                })
                .collect(),
        },
    })
}

fn actor(id: &str, name: &str, role: &str, seed: [u8; 32]) -> Payload {
    Payload::ActorRegistered(ActorRegistered {
        actor: id.into(),
        name: text(name),
        roles: vec![role.into()],
        public_key: encode_public_key(&SigningKey::from_bytes(&seed).verifying_key()),
    })
}

fn milestone(id: &str, title: &str, layer: &str, phase: &str, deps: &[&str]) -> Payload {
    Payload::MilestoneDefined(MilestoneDefined {
        id: id.into(),
        title: text(title),
        layer: layer.into(),
        phase: phase.into(),
        description: text("what it means"),
        principles: vec![],
        depends_on: deps.iter().map(|d| d.to_string()).collect(),
    })
}

fn status(id: &str, from: &str, to: &str, reason: &str, evidence: &[&str]) -> Payload {
    Payload::MilestoneStatusChanged(MilestoneStatusChanged {
        id: id.into(),
        from: from.into(),
        to: to.into(),
        reason: reason.into(),
        evidence: evidence.iter().map(|e| e.to_string()).collect(),
        effective_on: None,
    })
}

/// Ledger `test` (two Seasons, 60 events: more than one page of the audit log) and a
/// second ledger `other` without a log key in the key store.
async fn record(url: &str) {
    let w = Waymark::new(Db::connect(url).await.unwrap(), fixed_clock());
    let mut a = Author {
        ledger: "test",
        n: 0,
    };
    let layers = vec![
        LayerDef {
            id: LAYER.into(),
            title: text("Technical"),
            phases: vec!["A".into(), PHASE.into()],
        },
        LayerDef {
            id: "econ".into(),
            title: text("Economic"),
            phases: vec!["A".into(), PHASE.into()],
        },
    ];
    let long = format!(
        "{}{}",
        "A long reason that goes on and on, ".repeat(6),
        text("ending")
    );
    let evidence = [
        "https://example.org/e1?q=\"<script>'x'</script>&y=1",
        "http://a-rather-long-host-name.example.org/with/a/long/path/to/the/evidence?x=1",
    ];
    let mut statements = vec![
        a.sign("alice", opened(&text("Tiny ledger"), layers, &["A", PHASE])),
        a.sign("alice", actor("bob", "Bob", "reporter", BOB)),
        a.sign("alice", actor("rita", "Rita", "reviewer", RITA)),
        a.sign(
            "alice",
            milestone("M1", "Security Council", LAYER, "A", &[]),
        ),
        a.sign("alice", milestone("M2", "Upgrades", LAYER, "A", &["M1"])),
        a.sign("alice", milestone("M3", "Stage 2", LAYER, PHASE, &[])),
        a.sign("alice", milestone("E1", "Fund onchain", "econ", "A", &[])),
        a.sign(
            "alice",
            Payload::SeasonOpened(SeasonOpened {
                season: 6,
                starts_on: "2024-06-27".into(),
                intent: text("Finish phase A"),
                focus: vec!["M1".into(), "M2".into()],
            }),
        ),
        a.sign(
            "bob",
            status("M1", "not_started", "achieved", &text("elected"), &evidence),
        ),
        a.sign(
            "bob",
            status("M2", "not_started", "in_progress", &long, &[]),
        ),
        a.sign(
            "bob",
            status("M1", "achieved", "in_progress", &text("regressed"), &[]),
        ),
        a.sign(
            "bob",
            status(
                "E1",
                "not_started",
                "achieved",
                "funded",
                &["https://example.org/e3"],
            ),
        ),
        a.sign(
            "rita",
            Payload::PhaseTransitioned(PhaseTransitioned {
                layer: "econ".into(),
                from: "A".into(),
                to: PHASE.into(),
                reason: text("phase A of econ is done"),
            }),
        ),
        a.sign(
            "rita",
            Payload::SeasonReEvaluated(SeasonReEvaluated {
                season: 6,
                ends_on: "2024-12-11".into(),
                summary: text("M1 regressed"),
                assessments: vec![Assessment {
                    milestone: "M1".into(),
                    note: text("fell back"),
                }],
            }),
        ),
        a.sign(
            "alice",
            Payload::MilestoneRetired(MilestoneRetired {
                id: "M3".into(),
                reason: text("dropped from the model"),
            }),
        ),
        a.sign(
            "alice",
            Payload::SeasonOpened(SeasonOpened {
                season: 7,
                starts_on: "2025-01-02".into(),
                intent: text("Phase B"),
                focus: vec!["E1".into(), "M1".into()],
            }),
        ),
    ];
    // M2 back and forth: the audit log runs to a second page.
    let mut from = "in_progress";
    for i in 0..44 {
        let to = if from == "in_progress" {
            "not_started"
        } else {
            "in_progress"
        };
        statements.push(a.sign("bob", status("M2", from, to, &format!("turn {i}'s"), &[])));
        from = to;
    }
    for s in statements {
        w.record("test", vec![s]).await.unwrap();
    }
    let mut o = Author {
        ledger: "other",
        n: 100,
    };
    let one = vec![LayerDef {
        id: "gov".into(),
        title: "Governance".into(),
        phases: vec!["A".into()],
    }];
    w.record("other", vec![o.sign("alice", opened("Other", one, &["A"]))])
        .await
        .unwrap();
    w.settle().await;
}

/// Compares `actual` with `tests/fixtures/dashboard/<name>` byte for byte;
/// `WAYMARK_BLESS=1` writes it.
fn golden(name: &str, actual: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/dashboard")
        .join(name);
    if std::env::var_os("WAYMARK_BLESS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (WAYMARK_BLESS=1 writes the golden files)",
            path.display()
        )
    });
    if expected != actual {
        let at = expected
            .bytes()
            .zip(actual.bytes())
            .position(|(a, b)| a != b)
            .unwrap_or(expected.len().min(actual.len()));
        let from = at.saturating_sub(80);
        panic!(
            "{name} differs from the golden file at byte {at} (golden {} bytes, now {}):\n\
             golden: {:?}\n   now: {:?}",
            expected.len(),
            actual.len(),
            String::from_utf8_lossy(&expected.as_bytes()[from..(at + 80).min(expected.len())]),
            String::from_utf8_lossy(&actual.as_bytes()[from..(at + 80).min(actual.len())]),
        );
    }
}

/// A page of the server, asked for with `Host: dash.example` (the copyable commands
/// name the host the reader used).
fn page(base: &str, path: &str) -> String {
    let r = ureq::get(&format!("{base}{path}"))
        .set("Host", HOST)
        .call()
        .unwrap_or_else(|e| panic!("GET {path}: {e}"));
    assert_eq!(r.content_type(), "text/html", "GET {path}");
    r.into_string().unwrap()
}

/// What every page must hold, whatever its golden file says: no script tag, quote or
/// apostrophe from the ledger unescaped, and no control character but newline and tab.
fn no_raw_text(name: &str, html: &str) {
    // Ledger `other` holds no hostile text.
    let hostile = !name.contains("first-ledger") && !name.contains("decisions-empty");
    assert!(
        !html.contains("<script>"),
        "{name}: a script tag from the ledger reached the page"
    );
    assert!(!html.contains("it's"), "{name}: an unescaped apostrophe");
    assert!(!html.contains("alert(\"x\")"), "{name}: an unescaped quote");
    assert!(
        !html
            .chars()
            .any(|c| c.is_control() && !matches!(c, '\n' | '\t') || c == '\u{FFFE}'),
        "{name}: a control character or non-character escaped the escaper"
    );
    assert!(
        !hostile || html.contains("&amp; a|b\n\nc\td\u{FFFD}e\u{FFFD}f\u{FFFD}g"),
        "{name}: the hostile text is not on the page as the escaper writes it"
    );
}

fn pages_are_golden(kind: Kind) {
    let env = Env::new(kind);
    key_file(&env, "_log.test", LOG);
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(record(&env.url));
    let keys = env.keys().display().to_string();

    let server = serve(&env);
    for (name, path) in [
        // The first ledger of the store, `other`: no log key, so no checkpoint.
        ("server-first-ledger.html", "/"),
        ("server-head.html", "/?ledger=test"),
        ("server-season-6.html", "/ledgers/test?as_of=season:6"),
        ("server-seq-12.html", "/ledgers/test?as_of=seq:12"),
        (
            "server-time.html",
            "/ledgers/test?as_of=time:2025-06-15T17:07:30%2B02:00",
        ),
        (
            "server-filtered.html",
            "/ledgers/test?milestone=M2&actor=bob&type=MilestoneStatusChanged",
        ),
        // As the filter form sends it: every field, the unused ones empty.
        (
            "server-filtered-season.html",
            "/ledgers/test?as_of=&milestone=&actor=bob&season=6&type=",
        ),
        (
            "server-no-match.html",
            "/ledgers/test?milestone=M3&type=PhaseTransitioned",
        ),
        ("server-older.html", "/ledgers/test?before=30"),
        // A ledger without bodies or decisions: the page says so.
        ("server-decisions-empty.html", "/ledgers/other/decisions"),
        (
            "server-older-as-of.html",
            "/ledgers/test?as_of=season:7&before=40&actor=bob",
        ),
    ] {
        // The key store's path (a temp dir) is the one part that differs per run.
        let html = page(&server.base, path).replace(&keys, "$KEYS");
        no_raw_text(name, &html);
        golden(name, &html);
    }
    // A filter that is not a number is a problem, not a page.
    for (query, field) in [("season=six", "season"), ("before=x", "before")] {
        let p = common::served::get(&format!("{}/ledgers/test?{query}", server.base)).problem(400);
        assert!(
            p["detail"].as_str().unwrap().starts_with(field),
            "{query}: {p}"
        );
    }
    drop(server);

    let site = env.path("site");
    env.ok(&["--ledger", "test", "site", "--out", site.to_str().unwrap()]);
    for name in ["index.html", "as-of-season-6.html", "as-of-season-7.html"] {
        let html = std::fs::read_to_string(site.join(name)).unwrap();
        no_raw_text(name, &html);
        golden(&format!("site-{name}"), &html);
    }
}

/// A design: `deciders` by `process`, the rest given.
fn design(
    proposers: &[&str],
    deciders: &[&str],
    process: &str,
    vetoes: &[(&str, Option<i64>)],
    executors: &[&str],
) -> Design {
    let ids = |v: &[&str]| v.iter().map(|s| s.to_string()).collect();
    Design {
        proposers: ids(proposers),
        deciders: ids(deciders),
        process: process.into(),
        threshold_bps: None,
        quorum_bps: None,
        signers: None,
        vetoes: vetoes
            .iter()
            .map(|(b, t)| Veto {
                body: b.to_string(),
                threshold_bps: *t,
            })
            .collect(),
        executors: ids(executors),
    }
}

fn body(id: &str, title: &str, kind: &str) -> Payload {
    Payload::BodyDefined(BodyDefined {
        id: id.into(),
        title: text(title),
        kind: kind.into(),
        description: text("what it is"),
        charter: None,
    })
}

fn transfer(
    decision: &str,
    from: &Design,
    to: &Design,
    reason: &str,
    evidence: &[&str],
    on: &str,
) -> Payload {
    Payload::AuthorityTransferred(Box::new(AuthorityTransferred {
        decision: decision.into(),
        from: from.clone(),
        to: to.clone(),
        reason: text(reason),
        evidence: evidence.iter().map(|e| e.to_string()).collect(),
        effective_on: on.into(),
    }))
}

/// Ledger `gov`: four bodies, two decision modules (one with a target, one without),
/// two Seasons, three transfers (during a Season, between Seasons, and the one that
/// reaches the target), a hypothesis stated and concluded, a profile revised and a
/// body retired; every title, reason and note hostile, the evidence links too.
async fn record_decisions(url: &str) {
    let w = Waymark::new(Db::connect(url).await.unwrap(), fixed_clock());
    let mut a = Author {
        ledger: "gov",
        n: 0,
    };
    let layers = vec![
        LayerDef {
            id: LAYER.into(),
            title: text("Technical"),
            phases: vec!["A".into(), PHASE.into()],
        },
        LayerDef {
            id: "social".into(),
            title: text("Social"),
            phases: vec!["A".into(), PHASE.into()],
        },
    ];
    let today = {
        let mut d = design(
            &["old"],
            &["foundation"],
            "discretion",
            &[],
            &["foundation"],
        );
        d.quorum_bps = None;
        d
    };
    let voted = {
        let mut d = design(
            &[],
            &["house"],
            "vote",
            &[("council", Some(2000))],
            &["council"],
        );
        d.threshold_bps = Some(5100);
        d.quorum_bps = Some(3000);
        d
    };
    let target = {
        let mut d = voted.clone();
        d.proposers = vec!["house".into()];
        d.vetoes = vec![Veto {
            body: "council".into(),
            threshold_bps: Some(3333),
        }];
        d
    };
    let guard = |m, n| {
        let mut d = design(
            &[],
            &["council"],
            "multisig",
            &[],
            &["council", "foundation"],
        );
        d.signers = Some(Signers { m, n });
        d
    };
    let evidence = [
        "https://example.org/vote?q=\"<script>'x'</script>&y=1",
        "http://a-rather-long-host-name.example.org/with/a/long/path/to/the/evidence?x=1",
    ];
    let statements = vec![
        a.sign(
            "alice",
            opened(&text("Governance ledger"), layers, &["A", PHASE]),
        ),
        a.sign("alice", actor("rita", "Rita", "reviewer", RITA)),
        a.sign(
            "alice",
            milestone("M1", "Security Council", LAYER, "A", &[]),
        ),
        a.sign("alice", body("council", "Security Council", "council")),
        a.sign("alice", body("foundation", "Foundation", "foundation")),
        a.sign("alice", body("house", "Token House", "house")),
        a.sign("alice", body("old", "Old Commission", "commission")),
        a.sign(
            "alice",
            Payload::DecisionDefined(Box::new(DecisionDefined {
                id: "upgrades".into(),
                title: text("Protocol upgrades"),
                description: text("who upgrades"),
                layer: LAYER.into(),
                principles: vec![],
                profile: Profile {
                    cadence: Some("rare".into()),
                    stakes: Some("high".into()),
                    leverage: Some(3),
                    ..Default::default()
                },
                current: today.clone(),
                target: Some(target.clone()),
                milestones: vec!["M1".into()],
                source: Some("https://example.org/source?a=\"<b>'".into()),
            })),
        ),
        a.sign(
            "alice",
            Payload::DecisionDefined(Box::new(DecisionDefined {
                id: "emergency".into(),
                title: text("Emergency actions"),
                description: text("who acts in an emergency"),
                layer: "social".into(),
                principles: vec![],
                profile: Profile::default(),
                current: guard(10, 13),
                target: None,
                milestones: vec![],
                source: None,
            })),
        ),
        a.sign(
            "alice",
            Payload::SeasonOpened(SeasonOpened {
                season: 1,
                starts_on: "2024-01-01".into(),
                intent: text("Hand over upgrades"),
                focus: vec!["M1".into()],
            }),
        ),
        a.sign(
            "rita",
            transfer(
                "upgrades",
                &today,
                &voted,
                "the House voted",
                &evidence,
                "2024-03-01",
            ),
        ),
        a.sign(
            "rita",
            Payload::HypothesisStated(HypothesisStated {
                decision: "upgrades".into(),
                id: "h1".into(),
                statement: text("the House decides as well"),
                measure: text("upgrades shipped"),
            }),
        ),
        a.sign(
            "rita",
            Payload::SeasonReEvaluated(SeasonReEvaluated {
                season: 1,
                ends_on: "2024-06-30".into(),
                summary: text("handed over"),
                assessments: vec![],
            }),
        ),
        a.sign(
            "alice",
            Payload::BodyRetired(BodyRetired {
                id: "old".into(),
                reason: text("dissolved"),
            }),
        ),
        a.sign(
            "rita",
            transfer(
                "emergency",
                &guard(10, 13),
                &guard(9, 12),
                "a member left",
                &["https://example.org/council"],
                "2024-07-15",
            ),
        ),
        a.sign(
            "alice",
            Payload::DecisionRevised(Box::new(DecisionRevised {
                id: "upgrades".into(),
                reason: text("the DDF answered"),
                profile: Some(Profile {
                    cadence: Some("seasonal".into()),
                    answer: Some("judgement".into()),
                    space: Some("concave".into()),
                    leverage: Some(7),
                    ..Default::default()
                }),
                ..Default::default()
            })),
        ),
        a.sign(
            "alice",
            Payload::SeasonOpened(SeasonOpened {
                season: 2,
                starts_on: "2024-07-01".into(),
                intent: text("Reach the target"),
                focus: vec!["M1".into()],
            }),
        ),
        a.sign(
            "rita",
            Payload::HypothesisConcluded(HypothesisConcluded {
                decision: "upgrades".into(),
                id: "h1".into(),
                outcome: "supported".into(),
                note: text("it did"),
                evidence: vec![],
            }),
        ),
        a.sign(
            "rita",
            transfer(
                "upgrades",
                &voted,
                &target,
                "the target is reached",
                &evidence[..1],
                "2024-09-01",
            ),
        ),
    ];
    for s in statements {
        w.record("gov", vec![s]).await.unwrap();
    }
    w.settle().await;
}

/// The "Who decides" page, on the server at the head and at earlier points, and in the
/// static site.
fn decision_pages_are_golden(kind: Kind) {
    let env = Env::new(kind);
    key_file(&env, "_log.gov", LOG);
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(record_decisions(&env.url));

    let server = serve(&env);
    for (name, path) in [
        ("server-decisions-head.html", "/ledgers/gov/decisions"),
        // The end of Season 1: one transfer, the old body not yet retired.
        (
            "server-decisions-season-1.html",
            "/ledgers/gov/decisions?as_of=season:1",
        ),
        // Before any transfer or Season: the Foundation decides.
        (
            "server-decisions-seq-9.html",
            "/ledgers/gov/decisions?as_of=seq:9",
        ),
    ] {
        let html = page(&server.base, path);
        no_raw_text(name, &html);
        golden(name, &html);
    }
    let p = common::served::get(&format!(
        "{}/ledgers/gov/decisions?as_of=season:9",
        server.base
    ))
    .problem(400);
    assert!(p["detail"].as_str().unwrap().contains("season 9"), "{p}");
    common::served::get(&format!("{}/ledgers/nope/decisions", server.base)).problem(404);
    drop(server);

    let site = env.path("site");
    env.ok(&["--ledger", "gov", "site", "--out", site.to_str().unwrap()]);
    for name in [
        "decisions.html",
        "decisions-as-of-season-1.html",
        "decisions-as-of-season-2.html",
    ] {
        let html = std::fs::read_to_string(site.join(name)).unwrap();
        no_raw_text(name, &html);
        golden(&format!("site-{name}"), &html);
    }
}

on_both_backends!(pages_are_golden, decision_pages_are_golden);
