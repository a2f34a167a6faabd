//! The wire format of C2SP tlog-witness's `add-checkpoint`: the request body and the
//! two answers with a defined body (200: cosignature lines; 409 over sizes: the size).
//!
//! ```text
//! old <size>\n                 the tree size the client believes the witness has
//! <base64 hash>\n  × 0..63     the consistency proof from that size
//! \n
//! <checkpoint>                 a signed note: origin, size, root, blank line, signatures
//! ```
//!
//! Parsing is strict: decimal sizes without sign or leading zeros, proof lines that are
//! standard base64 of exactly 32 bytes, every line ending in a newline, UTF-8 only. The
//! checkpoint itself is parsed by [`waymark_events::split_note`] and
//! [`waymark_events::Checkpoint::parse_body`], not here.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use waymark_events::{parse_signature_line, Hash, MAX_NOTE_BYTES};

/// At most this many consistency proof lines (tlog-witness: "MUST NOT send more
/// than 63"), enough for any tree of up to 2^63 leaves.
pub const MAX_PROOF_LINES: usize = 63;

/// The largest request body read: the old size line, 63 proof lines and the largest
/// checkpoint note read anywhere ([`MAX_NOTE_BYTES`]).
pub const MAX_REQUEST_BYTES: usize = 32 + MAX_PROOF_LINES * 45 + 1 + MAX_NOTE_BYTES;

/// The largest answer a client reads: cosignature lines are ~120 bytes each, and
/// a refusal's reason is a sentence.
pub const MAX_ANSWER_BYTES: usize = 64 * 1024;

/// The content type of a 409 answer that carries the witness's tree size.
pub const SIZE_CONTENT_TYPE: &str = "text/x.tlog.size";

/// An `add-checkpoint` request, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddCheckpoint {
    /// The size of the latest checkpoint the client believes the witness cosigned.
    pub old_size: u64,
    /// The consistency proof from `old_size` to the checkpoint's size (RFC 6962).
    pub proof: Vec<Hash>,
    /// The checkpoint: a signed note, not yet checked.
    pub note: String,
}

/// Why a request body is not an `add-checkpoint` request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProtocolError {
    #[error("request body is larger than {limit} bytes")]
    TooLarge { limit: usize },
    #[error("malformed add-checkpoint request: {0}")]
    Malformed(String),
}

/// ASCII decimal, no sign, no leading zeros (unless it is `0`), at most 2^63 − 1 (the
/// witness keeps sizes as SQLite integers, and no tree is larger).
pub fn parse_size(s: &str) -> Option<u64> {
    let digits = !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits || (s.len() > 1 && s.starts_with('0')) {
        return None;
    }
    s.parse::<u64>().ok().filter(|n| *n <= i64::MAX as u64)
}

fn malformed(m: impl Into<String>) -> ProtocolError {
    ProtocolError::Malformed(m.into())
}

/// Parses an `add-checkpoint` body.
pub fn parse_request(body: &[u8]) -> Result<AddCheckpoint, ProtocolError> {
    if body.len() > MAX_REQUEST_BYTES {
        return Err(ProtocolError::TooLarge {
            limit: MAX_REQUEST_BYTES,
        });
    }
    let text = std::str::from_utf8(body).map_err(|_| malformed("body is not UTF-8"))?;
    let mut rest = text;
    let mut next_line = |what: &str| -> Result<&str, ProtocolError> {
        let (line, after) = rest
            .split_once('\n')
            .ok_or_else(|| malformed(format!("{what} does not end in a newline")))?;
        rest = after;
        Ok(line)
    };
    let old = next_line("the old size line")?;
    let old_size = old
        .strip_prefix("old ")
        .and_then(parse_size)
        .ok_or_else(|| {
            malformed(format!(
                "first line {old:?} is not `old <size>` (a decimal size without leading zeros)"
            ))
        })?;
    let mut proof = Vec::new();
    loop {
        let line = next_line("a consistency proof line")?;
        if line.is_empty() {
            break;
        }
        if proof.len() == MAX_PROOF_LINES {
            return Err(malformed(format!(
                "more than {MAX_PROOF_LINES} consistency proof lines"
            )));
        }
        let hash: [u8; 32] = B64
            .decode(line)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| {
                malformed(format!(
                    "proof line {} is not standard base64 of a 32-byte hash",
                    proof.len() + 1
                ))
            })?;
        proof.push(Hash(hash));
    }
    if rest.is_empty() {
        return Err(malformed("no checkpoint after the empty line"));
    }
    Ok(AddCheckpoint {
        old_size,
        proof,
        note: rest.to_string(),
    })
}

/// Encodes an `add-checkpoint` body. The note is sent as given (a signed checkpoint,
/// ending in its last signature line's newline).
pub fn encode_request(old_size: u64, proof: &[Hash], note: &str) -> String {
    let mut out = String::with_capacity(16 + proof.len() * 45 + 1 + note.len());
    out.push_str(&format!("old {old_size}\n"));
    for h in proof {
        out.push_str(&B64.encode(h.0));
        out.push('\n');
    }
    out.push('\n');
    out.push_str(note);
    out
}

/// The body of a 409 over sizes: the witness's size and a newline.
pub fn encode_size(size: u64) -> String {
    format!("{size}\n")
}

/// Parses the body of a 409 over sizes.
pub fn parse_size_answer(body: &str) -> Option<u64> {
    body.strip_suffix('\n').and_then(parse_size)
}

/// Checks a 200 answer: one or more note signature lines (`— name base64`), each
/// ending in a newline. The signatures themselves are checked by the caller against
/// the witness keys it trusts.
pub fn parse_cosignature_lines(body: &str) -> Result<Vec<&str>, ProtocolError> {
    if body.is_empty() || !body.ends_with('\n') {
        return Err(malformed(
            "the answer is not signature lines ending in a newline",
        ));
    }
    let lines: Vec<&str> = body.split_terminator('\n').collect();
    for line in &lines {
        parse_signature_line(line).map_err(|e| malformed(format!("answer line {line:?}: {e}")))?;
    }
    Ok(lines)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOTE: &str = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n\u{2014} example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n";

    #[test]
    fn the_spec_example_round_trips() {
        let body = format!(
            "old 20852014\nPlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=\njrJZDmY8Y7SyJE0MWLpLozkIVMSMZcD5kvuKxPC3swk=\n5+pKlUdi2LeF/BcMHBn+Ku6yhPGNCswZZD1X/6QgPd8=\n/6WVhPs2CwSsb5rYBH5cjHV/wSmA79abXAwhXw3Kj/0=\n\n{NOTE}"
        );
        let req = parse_request(body.as_bytes()).unwrap();
        assert_eq!(req.old_size, 20852014);
        assert_eq!(req.proof.len(), 4);
        assert_eq!(req.note, NOTE);
        assert_eq!(encode_request(req.old_size, &req.proof, &req.note), body);
        let empty = encode_request(0, &[], NOTE);
        assert_eq!(empty, format!("old 0\n\n{NOTE}"));
        assert_eq!(parse_request(empty.as_bytes()).unwrap().proof, vec![]);
    }

    #[test]
    fn malformed_bodies_are_refused() {
        let h = "PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=";
        for bad in [
            String::new(),
            "old 1".into(),
            format!("old 01\n\n{NOTE}"),
            format!("old -1\n\n{NOTE}"),
            format!("old +1\n\n{NOTE}"),
            format!("old  1\n\n{NOTE}"),
            format!("Old 1\n\n{NOTE}"),
            format!("old 9223372036854775808\n\n{NOTE}"),
            format!("old 1\n{h}\n"),
            format!("old 1\n{h}\n\n"),
            format!("old 1\n{}\n\n{NOTE}", &h[..43]),
            format!("old 1\nAAAA\n\n{NOTE}"),
            format!("old 1\n{h} \n\n{NOTE}"),
            format!("old 1\n{}\n{NOTE}", [h; 64].join("\n")),
        ] {
            assert!(parse_request(bad.as_bytes()).is_err(), "{bad:?}");
        }
        let ok = format!("old 1\n{}\n\n{NOTE}", [h; 63].join("\n"));
        assert_eq!(parse_request(ok.as_bytes()).unwrap().proof.len(), 63);
        assert!(parse_request(b"old 1\n\n\xff\n").is_err());
        let huge = vec![b'a'; MAX_REQUEST_BYTES + 1];
        assert_eq!(
            parse_request(&huge),
            Err(ProtocolError::TooLarge {
                limit: MAX_REQUEST_BYTES
            })
        );
    }

    proptest::proptest! {
        /// Any bytes: a request or an error, never a panic; a parsed request encodes
        /// back to the same bytes (one spelling per request).
        #[test]
        fn any_body_parses_or_is_refused(
            start in 0..3usize,
            tail in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..400),
        ) {
            let start: &[u8] = [
                &b""[..],
                b"old 0\n\n",
                b"old 12\nPlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=\n",
            ][start];
            let body = [start, &tail].concat();
            if let Ok(req) = parse_request(&body) {
                let again = encode_request(req.old_size, &req.proof, &req.note);
                proptest::prop_assert_eq!(again.as_bytes(), &body[..]);
            }
        }

        #[test]
        fn requests_round_trip(old in 0..=i64::MAX as u64, n in 0..=MAX_PROOF_LINES, seed in proptest::prelude::any::<u8>(), note in "[a-z./]{1,20}\n[0-9]{1,5}\n") {
            let proof: Vec<Hash> = (0..n).map(|i| Hash([seed.wrapping_add(i as u8); 32])).collect();
            let body = encode_request(old, &proof, &note);
            let req = parse_request(body.as_bytes()).unwrap();
            proptest::prop_assert_eq!(req, AddCheckpoint { old_size: old, proof, note });
        }
    }

    #[test]
    fn answers_parse_strictly() {
        assert_eq!(parse_size_answer("42\n"), Some(42));
        assert_eq!(parse_size_answer(&encode_size(0)), Some(0));
        for bad in ["42", "042\n", " 42\n", "42\n\n", "-1\n", ""] {
            assert_eq!(parse_size_answer(bad), None, "{bad:?}");
        }
        let lines = "\u{2014} witness.example/w1 CMp+6LWBU0anHGH5aNDTJkH/gj79sG+T6+iP2ThYN5krrDJbR1HDnucjL39QsZTSvVjyQLrdk3DXDqI5G2HgLatVs0pWh6Up69HVOw==\n\u{2014} witness.example/w2 AWui8Sk55XjYLOijihBjhqEH6nS1ndDymE0a+6idX7pLcnoB+dhnz0854aLZgrrKbYKA7nC3HNJhm/kWl7oJlqU3rXXvpysAdyP3wQ==\n";
        assert_eq!(parse_cosignature_lines(lines).unwrap().len(), 2);
        for bad in ["", "ok\n", &lines[..lines.len() - 1], "\u{2014} w x\n"] {
            assert!(parse_cosignature_lines(bad).is_err(), "{bad:?}");
        }
    }
}
