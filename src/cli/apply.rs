//! `apply FILE`: signed statements from a JSON Lines file, streamed into one
//! all-or-nothing commit.

use super::*;
use crate::error::{Error, Result, StorageError};
use crate::files::KeyStore;
use crate::ledger::Signed;
use ed25519_dalek::SigningKey;
use serde_json::Value;
use std::path::PathBuf;
use waymark_events::*;

impl Session<'_> {
    /// `apply FILE` on the local store, streamed (issue 12: the whole file, parsed
    /// and signed, peaked at 2.0 GB for 100k lines): lines are read, parsed, signed
    /// and recorded a piece at a time inside one transaction, so memory stays flat
    /// whatever the file's size, a bad line is reported before the lines after its
    /// piece are read or signed, and still nothing is recorded unless every line is.
    pub(super) async fn apply_streamed(&self, file: &PathBuf) -> Result<i32> {
        let ledger = self.ledger().await?;
        let input = std::fs::File::open(file)
            .map_err(|e| Error::Storage(StorageError::file(format!("{}: {e}", file.display()))))?;
        let mut source = SignedLines {
            lines: ApplyLines::new(std::io::BufReader::new(input), file.display().to_string()),
            keys: &self.keys,
            cache: std::collections::HashMap::new(),
            ledger: ledger.clone(),
            issued_at: now(),
            failed: None,
        };
        let Some((lo, hi)) = self.w.record_stream(&ledger, &mut source).await? else {
            return Err(Error::BadInput(format!(
                "{}: no statements",
                file.display()
            )));
        };
        use std::io::Write;
        let stdout = std::io::stdout();
        let mut out = std::io::BufWriter::new(stdout.lock());
        let failed = |e: std::io::Error| Error::Storage(StorageError::file(format!("stdout: {e}")));
        if self.cli.json {
            // `{"recorded":[…]}` as `print_recorded` writes it, an event at a time.
            out.write_all(b"{\"recorded\":[").map_err(failed)?;
            let mut wrote = Ok(());
            self.w
                .each_recorded(&ledger, lo, hi, &mut |r| {
                    if wrote.is_ok() {
                        let sep: &[u8] = if r.seq == lo { b"" } else { b"," };
                        wrote = out
                            .write_all(sep)
                            .and_then(|()| serde_json::to_writer(&mut out, &r).map_err(Into::into));
                    }
                })
                .await?;
            wrote.map_err(failed)?;
            out.write_all(b"]}\n").map_err(failed)?;
        } else {
            let mut last = None;
            self.w
                .each_recorded(&ledger, hi, hi, &mut |r| last = Some(r))
                .await?;
            if let Some(r) = last {
                let more = if hi > lo {
                    format!(" ({} events)", hi - lo + 1)
                } else {
                    String::new()
                };
                writeln!(
                    out,
                    "recorded seq {} {}{more}  hash {}",
                    r.seq, r.event_type, r.hash
                )
                .map_err(failed)?;
            }
        }
        out.flush().map_err(failed)?;
        Ok(0)
    }
}

/// The statements of an `apply` file, signed a piece at a time for
/// [`Waymark::record_stream`]. A line that cannot be read or signed ends the piece
/// before it, and is reported once that piece is judged, so the first failing line
/// is the one named, as if the file were checked one line after another.
pub(super) struct SignedLines<'k, B> {
    lines: ApplyLines<B>,
    keys: &'k KeyStore,
    /// Each actor's key, loaded once (bounded by the number of actors).
    cache: std::collections::HashMap<String, SigningKey>,
    ledger: String,
    /// The `issued_at` of lines that give none.
    issued_at: String,
    failed: Option<Error>,
}

impl<B: std::io::BufRead> crate::service::StatementSource for SignedLines<'_, B> {
    fn next_piece(&mut self, max: usize) -> Result<Vec<(usize, Signed)>> {
        if let Some(e) = self.failed.take() {
            return Err(e);
        }
        let mut piece = Vec::with_capacity(max.min(1024));
        while piece.len() < max {
            let line = match self.lines.next_line() {
                Ok(Some(l)) => l,
                Ok(None) => break,
                Err(e) => {
                    self.failed = Some(e);
                    break;
                }
            };
            if !self.cache.contains_key(&line.actor) {
                match self.keys.load_actor(&line.actor) {
                    Ok(k) => {
                        self.cache.insert(line.actor.clone(), k);
                    }
                    Err(e) => {
                        self.failed = Some(Error::BadInput(format!("line {}: {e}", line.line)));
                        break;
                    }
                }
            }
            let at = line.issued_at.unwrap_or_else(|| self.issued_at.clone());
            let s = signed(
                &self.ledger,
                &line.actor,
                &self.cache[&line.actor],
                at,
                line.payload,
            );
            piece.push((line.line, s));
        }
        match (piece.is_empty(), self.failed.take()) {
            (true, Some(e)) => Err(e),
            (_, failed) => {
                self.failed = failed;
                Ok(piece)
            }
        }
    }
}

/// One line of an `apply` file.
#[derive(Debug, Clone)]
pub(crate) struct ApplyLine {
    pub line: usize,
    pub actor: String,
    pub payload: Payload,
    pub issued_at: Option<String>,
}

/// The largest `apply` file the `--server` client reads and sends as one batch (the
/// local store streams any size): 256 MiB.
pub(super) const MAX_APPLY_BYTES: u64 = 256 * 1024 * 1024;

/// Parses `{"as","type","payload","issued_at"?}` lines strictly (SPEC section 2).
pub(crate) fn parse_apply_lines(text: &[u8]) -> Result<Vec<ApplyLine>> {
    let mut lines = ApplyLines::new(text, "input".into());
    let mut out = Vec::new();
    while let Some(l) = lines.next_line()? {
        out.push(l);
    }
    Ok(out)
}

/// The UTF-8 byte order mark some editors put at the start of a file. It is not
/// part of the first line's JSON: it is skipped (issue 12: it was reported as
/// "expected value at line 1 column 1").
pub(super) const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Reads an `apply` file one line at a time, holding at most one line (of at most
/// a statement's size) in memory.
pub(crate) struct ApplyLines<B> {
    input: B,
    /// The file's name, for read errors.
    name: String,
    /// The number of the last line read (1-based).
    line: usize,
    buf: Vec<u8>,
}

impl<B: std::io::BufRead> ApplyLines<B> {
    pub(crate) fn new(input: B, name: String) -> Self {
        ApplyLines {
            input,
            name,
            line: 0,
            buf: Vec::new(),
        }
    }

    fn io(name: &str, e: std::io::Error) -> Error {
        Error::Storage(StorageError::file(format!("{name}: {e}")))
    }

    /// The next line that is not blank, parsed; `None` at the end of the input.
    pub(crate) fn next_line(&mut self) -> Result<Option<ApplyLine>> {
        use std::io::{BufRead, Read};
        // Rule 8 before parsing: a line longer than a statement may be is not kept.
        let limit = waymark_core::MAX_STATEMENT_BYTES as u64 + 1;
        loop {
            self.buf.clear();
            self.line += 1;
            let n = (&mut self.input)
                .take(limit)
                .read_until(b'\n', &mut self.buf)
                .map_err(|e| Self::io(&self.name, e))?;
            if n == 0 {
                return Ok(None);
            }
            let line = self.line;
            let mut raw: &[u8] = &self.buf;
            if let Some(r) = raw.strip_suffix(b"\n") {
                raw = r;
            } else if n as u64 == limit {
                // Too long: count the rest of it without keeping it.
                let mut len = raw.len();
                loop {
                    let chunk = self.input.fill_buf().map_err(|e| Self::io(&self.name, e))?;
                    if chunk.is_empty() {
                        break;
                    }
                    match chunk.iter().position(|b| *b == b'\n') {
                        Some(i) => {
                            len += i;
                            self.input.consume(i + 1);
                            break;
                        }
                        None => {
                            let k = chunk.len();
                            len += k;
                            self.input.consume(k);
                        }
                    }
                }
                return Err(Error::Rejected {
                    line: Some(line),
                    rejection: waymark_core::Rejection {
                        rule: waymark_core::Rule::Limits,
                        field: "statement".into(),
                        message: format!(
                            "a line of {len} bytes exceeds {} (checked before parsing)",
                            waymark_core::MAX_STATEMENT_BYTES
                        ),
                    },
                });
            }
            if line == 1 {
                raw = raw.strip_prefix(BOM).unwrap_or(raw);
            }
            if raw.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            return parse_apply_line(line, raw).map(Some);
        }
    }
}

/// One line of an `apply` file, parsed strictly.
pub(super) fn parse_apply_line(line: usize, raw: &[u8]) -> Result<ApplyLine> {
    let bad = |m: String| Error::BadInput(format!("line {line}: {m}"));
    let v = parse_strict(raw).map_err(|e| bad(e.to_string()))?;
    let m = v
        .as_object()
        .ok_or_else(|| bad("expected a JSON object".into()))?;
    if let Some(k) = m
        .keys()
        .find(|k| !["as", "type", "payload", "issued_at"].contains(&k.as_str()))
    {
        return Err(bad(format!(
            "unexpected key {k:?} (allowed: as, type, payload, issued_at)"
        )));
    }
    let text_of = |k: &str| m.get(k).and_then(Value::as_str).map(str::to_owned);
    let actor = text_of("as").ok_or_else(|| bad("\"as\" must be an actor id string".into()))?;
    let kind: EventType = text_of("type")
        .ok_or_else(|| bad("\"type\" must be a string".into()))?
        .parse()
        .map_err(|e: UnknownEventType| bad(e.to_string()))?;
    let payload_value = m
        .get("payload")
        .ok_or_else(|| bad("missing \"payload\"".into()))?;
    let payload =
        Payload::from_value(kind, payload_value).map_err(|e| bad(format!("payload: {e}")))?;
    let issued_at = match m.get("issued_at") {
        None => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => return Err(bad("\"issued_at\" must be a string".into())),
    };
    Ok(ApplyLine {
        line,
        actor,
        payload,
        issued_at,
    })
}
