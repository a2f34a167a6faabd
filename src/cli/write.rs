//! The write commands, written once against `Writer`: the local store
//! (`Session`) or a server (`remote::Remote`).

use super::*;
use crate::error::{Error, Result, StorageError};
use crate::files::KeyStore;
use crate::ledger::Signed;
use crate::read::Since;
use crate::service::Recorded;
use ed25519_dalek::SigningKey;
use serde_json::json;
use std::collections::BTreeMap;
use std::path::PathBuf;
use waymark_events::*;
use waymark_projections::Status;

/// Where a session's statements are recorded and its rule state is read: the local
/// store (`Session`) or a server (`remote::Remote`, `--server URL`). The write
/// commands are written once, here, against it.
pub(crate) trait Writer {
    fn cli(&self) -> &Cli;
    fn keys(&self) -> &KeyStore;
    /// The ledger: `--ledger`, or the only one there is.
    async fn ledger(&self) -> Result<String>;
    /// The rule state at the head.
    async fn state(&self, ledger: &str) -> Result<waymark_core::LedgerState>;
    /// Records statements, all or none (`line` of a rejection: 1-based index).
    async fn record(&self, ledger: &str, statements: Vec<Signed>) -> Result<Vec<Recorded>>;
    /// The status projection at the head, or as of `as_of` (`seq:N`, `season:N`,
    /// `time:RFC3339`).
    async fn status(&self, ledger: &str, as_of: Option<&str>) -> Result<Status>;
    /// For every decision defined in the first `upto` events, since when it has its
    /// current design there.
    async fn authority_since(&self, ledger: &str, upto: u64) -> Result<BTreeMap<String, Since>>;

    /// Signs a payload as `--as` (default: the founder) and records it.
    async fn sign_and_record(&self, payload: Payload) -> Result<Vec<Recorded>> {
        self.sign_and_record_at(payload, now()).await
    }

    /// Signs a payload as `--as` with this `issued_at` and records it.
    async fn sign_and_record_at(
        &self,
        payload: Payload,
        issued_at: String,
    ) -> Result<Vec<Recorded>> {
        let ledger = self.ledger().await?;
        let actor = match &self.cli().as_actor {
            Some(a) => a.clone(),
            None => self.state(&ledger).await?.founder,
        };
        self.settle_pending_key(&ledger, &actor).await?;
        let key = self.keys().load_actor(&actor)?;
        self.record_signed(
            &ledger,
            vec![signed(&ledger, &actor, &key, issued_at, payload)],
        )
        .await
    }

    /// A rotation that was recorded but whose staged key (`ACTOR.key.new`) did not
    /// replace the old key file (the process died, or the rename failed): the staged
    /// key is the one the ledger holds, so it is moved into place now.
    async fn settle_pending_key(&self, ledger: &str, actor: &str) -> Result<()> {
        let Some(staged) = self.keys().pending_key(actor) else {
            return Ok(());
        };
        let st = self.state(ledger).await?;
        let registered = st.actors.get(actor).map(|a| a.public_key.as_str());
        if registered == Some(encode_public_key(&staged.verifying_key()).as_str()) {
            self.keys().commit(actor)?;
            eprintln!(
                "waymark: the recorded key rotation of {actor} had not replaced its key file; {} now holds the new key",
                self.keys().actor_path(actor).display()
            );
        }
        Ok(())
    }

    async fn record_signed(&self, ledger: &str, statements: Vec<Signed>) -> Result<Vec<Recorded>> {
        let recorded = self.record(ledger, statements).await.map_err(|e| match e {
            Error::Rejected { rejection, .. } => Error::Rejected {
                line: None,
                rejection,
            },
            e => e,
        })?;
        self.print_recorded(&recorded);
        Ok(recorded)
    }

    fn print_recorded(&self, recorded: &[Recorded]) {
        if self.cli().json {
            println!("{}", json!({ "recorded": recorded }));
        } else {
            for r in recorded.iter().rev().take(1).rev() {
                let more = if recorded.len() > 1 {
                    format!(" ({} events)", recorded.len())
                } else {
                    String::new()
                };
                println!(
                    "recorded seq {} {}{more}  hash {}",
                    r.seq, r.event_type, r.hash
                );
            }
        }
    }

    /// The write commands: each statement signed here with the key store, then
    /// recorded by the store or the server.
    async fn write(&self, cmd: &Command) -> Result<i32> {
        match cmd {
            Command::Init(a) => self.init(a).await,
            Command::Actor(c) => self.actor(c).await,
            Command::Milestone(c) => self.milestone(c).await,
            Command::Phase(PhaseCmd::Advance { layer, reason }) => {
                let ledger = self.ledger().await?;
                let st = self.state(&ledger).await?;
                let from = st.layer_phase.get(layer).cloned().unwrap_or_default();
                let next = st
                    .framework
                    .layer(layer)
                    .and_then(|l| l.phases.iter().skip_while(|p| **p != from).nth(1).cloned())
                    .unwrap_or_else(|| from.clone());
                self.sign_and_record(Payload::PhaseTransitioned(PhaseTransitioned {
                    layer: layer.clone(),
                    from,
                    to: next,
                    reason: reason.clone(),
                }))
                .await?;
                Ok(0)
            }
            Command::Season(SeasonCmd::Open {
                number,
                starts_on,
                intent,
                focus,
            }) => {
                self.sign_and_record(Payload::SeasonOpened(SeasonOpened {
                    season: *number,
                    starts_on: starts_on.clone(),
                    intent: intent.clone(),
                    focus: focus.clone(),
                }))
                .await?;
                Ok(0)
            }
            Command::Season(SeasonCmd::Close {
                number,
                ends_on,
                summary,
                assess,
            }) => {
                let assessments = assess
                    .iter()
                    .map(|a| {
                        a.split_once('=')
                            .map(|(m, n)| Assessment {
                                milestone: m.into(),
                                note: n.into(),
                            })
                            .ok_or_else(|| {
                                Error::Usage(format!("--assess {a:?}: expected MILESTONE=NOTE"))
                            })
                    })
                    .collect::<Result<Vec<_>>>()?;
                self.sign_and_record(Payload::SeasonReEvaluated(SeasonReEvaluated {
                    season: *number,
                    ends_on: ends_on.clone(),
                    summary: summary.clone(),
                    assessments,
                }))
                .await?;
                Ok(0)
            }
            Command::Apply { file } => self.apply(file).await,
            Command::Body(c) => body(self, c).await,
            Command::Decision(c) => decision(self, c).await,
            Command::Decisions { as_of } => decisions(self, as_of.as_deref()).await,
            _ => Err(Error::Usage("not a write command".into())),
        }
    }

    async fn init(&self, a: &InitArgs) -> Result<i32> {
        let ledger = self
            .cli()
            .ledger
            .clone()
            .ok_or_else(|| Error::Usage("init needs --ledger ID".into()))?;
        let loaded = waymark_core::load_framework(&a.framework)?;
        let founder_key = self
            .keys()
            .load_or_create(&self.keys().actor_path(&a.founder))?
            .0;
        let log_key = self
            .keys()
            .load_or_create(&self.keys().log_path(&ledger))?
            .0;
        let statements = init_statements(&ledger, a, &loaded, &founder_key, &log_key, &now());
        self.record_signed(&ledger, statements).await?;
        Ok(0)
    }

    async fn actor(&self, c: &ActorCmd) -> Result<i32> {
        match c {
            ActorCmd::Add {
                id,
                name,
                roles,
                public_key,
            } => {
                let pk = match public_key {
                    Some(pk) => pk.clone(),
                    None => encode_public_key(
                        &self
                            .keys()
                            .load_or_create(&self.keys().actor_path(id))?
                            .0
                            .verifying_key(),
                    ),
                };
                self.sign_and_record(Payload::ActorRegistered(ActorRegistered {
                    actor: id.clone(),
                    name: name.clone(),
                    roles: roles.clone(),
                    public_key: pk,
                }))
                .await?;
            }
            ActorCmd::Roles { id, roles } => {
                self.sign_and_record(Payload::ActorRolesChanged(ActorRolesChanged {
                    actor: id.clone(),
                    roles: roles.clone(),
                }))
                .await?;
            }
            ActorCmd::RotateKey { id, public_key } => {
                let fresh = public_key
                    .is_none()
                    .then(|| SigningKey::generate(&mut rand::rngs::OsRng));
                let pk = match (public_key, &fresh) {
                    (Some(pk), _) => pk.clone(),
                    (None, Some(k)) => encode_public_key(&k.verifying_key()),
                    (None, None) => unreachable!("a key is generated when none is given"),
                };
                // The new key is written and fsynced (as ID.key.new) before the rotation
                // is recorded: a failure here records nothing and the old key still works.
                if let Some(k) = &fresh {
                    let ledger = self.ledger().await?;
                    self.settle_pending_key(&ledger, id).await?;
                    self.keys().stage(id, k)?;
                }
                let recorded = self
                    .sign_and_record(Payload::ActorKeyRotated(ActorKeyRotated {
                        actor: id.clone(),
                        public_key: pk,
                    }))
                    .await;
                match (recorded, fresh.is_some()) {
                    // Recorded: the staged key replaces the old one.
                    (Ok(_), true) => self.keys().commit(id)?,
                    // Refused, so certainly not recorded: the staged key is dropped. Any
                    // other failure (storage, network) may have recorded it: the staged
                    // key stays for `settle_pending_key` to promote if it was.
                    (
                        Err(e @ (Error::Rejected { .. } | Error::BadInput(_) | Error::Usage(_))),
                        true,
                    ) => {
                        let _ = self.keys().discard(id);
                        return Err(e);
                    }
                    (r, _) => {
                        r?;
                    }
                }
            }
            ActorCmd::Retire { id, reason } => {
                self.sign_and_record(Payload::ActorRetired(ActorRetired {
                    actor: id.clone(),
                    reason: reason.clone(),
                }))
                .await?;
            }
            ActorCmd::List => {
                let st = self.state(&self.ledger().await?).await?;
                if self.cli().json {
                    println!(
                        "{}",
                        serde_json::to_string_pretty(&st.actors).unwrap_or_default()
                    );
                } else {
                    let mut t = table(&["actor", "name", "roles", "public_key", "state"]);
                    for (id, a) in &st.actors {
                        let state = if a.retired { "retired" } else { "active" };
                        t.add_row(vec![
                            id.clone(),
                            a.name.clone(),
                            Role::join(&a.roles),
                            a.public_key.clone(),
                            state.into(),
                        ]);
                    }
                    println!("{t}");
                }
            }
        }
        Ok(0)
    }

    async fn milestone(&self, c: &MilestoneCmd) -> Result<i32> {
        let payload = match c {
            MilestoneCmd::Define {
                id,
                title,
                layer,
                phase,
                description,
                principles,
                depends_on,
            } => Payload::MilestoneDefined(MilestoneDefined {
                id: id.clone(),
                title: title.clone(),
                layer: layer.clone(),
                phase: phase.clone(),
                description: description.clone(),
                principles: principles.clone(),
                depends_on: depends_on.clone(),
            }),
            MilestoneCmd::Revise {
                id,
                title,
                description,
                phase,
                principles,
                depends_on,
                reason,
            } => Payload::MilestoneRevised(MilestoneRevised {
                id: id.clone(),
                reason: reason.clone(),
                title: title.clone(),
                description: description.clone(),
                phase: phase.clone(),
                principles: principles.clone(),
                depends_on: depends_on.clone(),
            }),
            MilestoneCmd::Retire { id, reason } => Payload::MilestoneRetired(MilestoneRetired {
                id: id.clone(),
                reason: reason.clone(),
            }),
            MilestoneCmd::Set {
                id,
                status,
                reason,
                evidence,
                effective_on,
            } => {
                let ledger = self.ledger().await?;
                let st = self.state(&ledger).await?;
                let from = st
                    .milestones
                    .get(id)
                    .map(|m| m.status.to_string())
                    .ok_or_else(|| Error::Rejected {
                        line: None,
                        rejection: waymark_core::Rejection {
                            rule: waymark_core::Rule::Milestone,
                            field: "payload.id".into(),
                            message: format!("milestone {id:?} is not defined"),
                        },
                    })?;
                Payload::MilestoneStatusChanged(MilestoneStatusChanged {
                    id: id.clone(),
                    from,
                    to: status.clone(),
                    reason: reason.clone(),
                    evidence: evidence.clone(),
                    effective_on: effective_on.clone(),
                })
            }
        };
        self.sign_and_record(payload).await?;
        Ok(0)
    }

    /// `apply FILE` sent as one batch (the `--server` client: the server's body
    /// limit bounds it): every line parsed, then signed with its actor's key, all
    /// recorded in one transaction or none; errors name the line. The local store
    /// streams the file instead (`Session::apply`).
    async fn apply(&self, file: &PathBuf) -> Result<i32> {
        let ledger = self.ledger().await?;
        let io = |e: std::io::Error| {
            Error::Storage(StorageError::file(format!("{}: {e}", file.display())))
        };
        let size = std::fs::metadata(file).map_err(io)?.len();
        if size > MAX_APPLY_BYTES {
            return Err(Error::BadInput(format!(
                "{}: {size} bytes is more than one apply file may hold ({MAX_APPLY_BYTES}); split it",
                file.display()
            )));
        }
        let text = std::fs::read(file).map_err(io)?;
        let lines = parse_apply_lines(&text)?;
        let mut statements = Vec::with_capacity(lines.len());
        let mut keys = std::collections::HashMap::new();
        let issued = now();
        for l in &lines {
            if !keys.contains_key(&l.actor) {
                let k = self
                    .keys()
                    .load_actor(&l.actor)
                    .map_err(|e| Error::BadInput(format!("line {}: {e}", l.line)))?;
                keys.insert(l.actor.clone(), k);
            }
            let at = l.issued_at.clone().unwrap_or_else(|| issued.clone());
            statements.push(signed(
                &ledger,
                &l.actor,
                &keys[&l.actor],
                at,
                l.payload.clone(),
            ));
        }
        if statements.is_empty() {
            return Err(Error::BadInput(format!(
                "{}: no statements",
                file.display()
            )));
        }
        let recorded = self
            .record(&ledger, statements)
            .await
            .map_err(|e| match e {
                Error::Rejected {
                    line: Some(i),
                    rejection,
                } => Error::Rejected {
                    line: Some(lines[i - 1].line),
                    rejection,
                },
                e => e,
            })?;
        self.print_recorded(&recorded);
        Ok(0)
    }
}

/// A statement signed by `actor` with `key`.
pub(crate) fn signed(
    ledger: &str,
    actor: &str,
    key: &SigningKey,
    issued_at: String,
    payload: Payload,
) -> Signed {
    let statement = Statement::new(ledger, actor, &issued_at, payload);
    let sig = sign(&statement, key);
    Signed { statement, sig }
}

/// `LedgerOpened`, the framework's milestones, then (SPEC section 13) one `BodyDefined`
/// per body and one `DecisionDefined` per decision, each in file order, signed by the
/// founder.
pub(crate) fn init_statements(
    ledger: &str,
    a: &InitArgs,
    loaded: &waymark_core::LoadedFramework,
    founder_key: &SigningKey,
    log_key: &SigningKey,
    issued_at: &str,
) -> Vec<Signed> {
    let origin = a
        .origin
        .clone()
        .unwrap_or_else(|| format!("waymark.local/{ledger}"));
    let opened = Payload::LedgerOpened(LedgerOpened {
        title: a
            .title
            .clone()
            .unwrap_or_else(|| loaded.framework.title.clone()),
        log_key: verifier_key(&origin, &log_key.verifying_key()),
        origin,
        founder: Founder {
            actor: a.founder.clone(),
            name: a.founder_name.clone().unwrap_or_else(|| a.founder.clone()),
            public_key: encode_public_key(&founder_key.verifying_key()),
        },
        framework: loaded.framework.clone(),
    });
    std::iter::once(opened)
        .chain(
            loaded
                .milestones
                .iter()
                .cloned()
                .map(Payload::MilestoneDefined),
        )
        .chain(loaded.bodies.iter().cloned().map(Payload::BodyDefined))
        .chain(
            loaded
                .decisions
                .iter()
                .cloned()
                .map(|d| Payload::DecisionDefined(Box::new(d))),
        )
        .map(|p| signed(ledger, &a.founder, founder_key, issued_at.to_string(), p))
        .collect()
}

/// `Err` (bad input, exit 1) when `id` is none of `known`, with the closest known id
/// as a suggestion: a filter that names nothing would print an empty table and exit 0.
pub(super) fn unknown<'k>(
    id: &str,
    what: &str,
    ledger: &str,
    known: impl Iterator<Item = &'k str>,
) -> Result<()> {
    let mut best: Option<(f64, &str)> = None;
    for k in known {
        if k == id {
            return Ok(());
        }
        let score = strsim::jaro_winkler(&k.to_lowercase(), &id.to_lowercase());
        if best.is_none_or(|(b, _)| score > b) {
            best = Some((score, k));
        }
    }
    Err(Error::BadInput(match best {
        Some((score, k)) if score >= 0.8 => format!("no {what} {id} (did you mean {k}?)"),
        _ => format!("no {what} {id} in ledger {ledger}"),
    }))
}
