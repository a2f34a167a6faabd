//! Known-answer and tamper tests for checkpoints (C2SP signed notes), the proof
//! documents and the snapshot bundle of SPEC sections 6 and 8, against `tests/vectors`.
//!
//! Set `WAYMARK_GO_FIXTURES=DIR` to have `write_go_fixtures` write the artifacts built
//! here (checkpoints at every size, every proof document, a snapshot bundle) into DIR,
//! for the reference Go checker in `tests/go`.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use ed25519_dalek::SigningKey;
use serde_json::{json, Value};
use waymark_events::*;

const ORIGIN: &str = "waymark.example/optimism";

fn vectors_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/vectors")
}

fn vectors() -> Value {
    let text = std::fs::read(vectors_dir().join("vectors.json")).unwrap();
    serde_json::from_slice(&text).unwrap()
}

fn vector_note() -> String {
    String::from_utf8(std::fs::read(vectors_dir().join("checkpoint.txt")).unwrap()).unwrap()
}

fn log_key() -> SigningKey {
    let seed = hex::decode(
        vectors()["keys"]["log"]["secret_seed_hex"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    SigningKey::from_bytes(&seed.try_into().unwrap())
}

fn log_verifier() -> VerifierKey {
    parse_verifier_key(vectors()["keys"]["log"]["verifier_key"].as_str().unwrap()).unwrap()
}

fn other_key(byte: u8) -> SigningKey {
    SigningKey::from_bytes(&[byte; 32])
}

fn hashes() -> Vec<Hash> {
    vectors()["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["hash"].as_str().unwrap().parse().unwrap())
        .collect()
}

fn vector_root(size: u64) -> Hash {
    vectors()["roots"][size.to_string()]
        .as_str()
        .unwrap()
        .parse()
        .unwrap()
}

fn checkpoint_at(size: u64) -> Checkpoint {
    Checkpoint::new(ORIGIN, size, vector_root(size)).unwrap()
}

/// The vector note with its body replaced and the signature kept.
fn with_body(note: &str, body: &str) -> String {
    let (_, sigs) = note.rsplit_once("\n\n").unwrap();
    format!("{body}\n{sigs}")
}

/// The vector note's one signature line, decoded: (key id || signature).
fn signature_bytes(note: &str) -> Vec<u8> {
    let line = note.lines().last().unwrap();
    let b64 = line.rsplit_once(' ').unwrap().1;
    B64.decode(b64).unwrap()
}

fn with_signature_bytes(note: &str, raw: &[u8]) -> String {
    let (text, _) = note.rsplit_once("\n\n").unwrap();
    format!("{text}\n\n\u{2014} {ORIGIN} {}\n", B64.encode(raw))
}

// ------------------------------------------------------------------ checkpoints

#[test]
fn vector_checkpoint_is_reproduced_byte_for_byte() {
    let root = merkle_root_of_vector_events();
    assert_eq!(root, vector_root(4));
    let cp = Checkpoint::new(ORIGIN, 4, root).unwrap();
    assert_eq!(
        cp.body(),
        "waymark.example/optimism\n4\nbEbWe3ats7Hq7KyTCUXe9Ac8iiJuLOohWMwn8Ekp9TU=\n"
    );
    let note = sign_checkpoint(&cp, &log_key());
    assert_eq!(note, vector_note());
    assert_eq!(note, vectors()["checkpoint"].as_str().unwrap());
}

fn merkle_root_of_vector_events() -> Hash {
    root(&hashes())
}

#[test]
fn vector_checkpoint_opens_with_the_log_verifier_key() {
    let key = log_verifier();
    assert_eq!(key.name, ORIGIN);
    assert_eq!(hex::encode(key.id), "1fc4232d");
    let cp = open_checkpoint(&vector_note(), &key).unwrap();
    assert_eq!(cp, checkpoint_at(4));
    assert_eq!(
        open_checkpoint_bytes(vector_note().as_bytes(), &key),
        Ok(cp)
    );
    assert_eq!(
        open_note(&vector_note(), &key),
        Ok(checkpoint_at(4).body().as_str())
    );
}

#[test]
fn checkpoints_round_trip_through_sign_and_open() {
    let sk = other_key(9);
    for origin in [
        "a",
        "example.com/log",
        "sum.golang.org",
        "ex\u{e9}mple/\u{1f600}",
    ] {
        let vkey = parse_verifier_key(&verifier_key(origin, &sk.verifying_key())).unwrap();
        for size in [0, 1, 2, 4, 1_000_000, u64::MAX] {
            let cp = Checkpoint::new(origin, size, leaf_hash(&size.to_be_bytes())).unwrap();
            assert_eq!(Checkpoint::parse_body(&cp.body()), Ok(cp.clone()));
            let note = sign_checkpoint(&cp, &sk);
            assert_eq!(open_checkpoint(&note, &vkey), Ok(cp));
        }
    }
}

#[test]
fn checkpoint_origins_must_be_key_names() {
    for bad in ["", "a b", "a+b", "a\nb", "a\u{a0}b", "a\u{1}b"] {
        assert_eq!(
            Checkpoint::new(bad, 1, Hash::ZERO),
            Err(NoteError::InvalidKeyName(bad.into()))
        );
    }
}

#[test]
fn wrong_key() {
    // Another key under the same name: its key id differs, so the note's signature is
    // not by it and is ignored, leaving none.
    let other = other_key(4);
    let same_name = parse_verifier_key(&verifier_key(ORIGIN, &other.verifying_key())).unwrap();
    assert_eq!(
        open_checkpoint(&vector_note(), &same_name),
        Err(NoteError::UnknownKey)
    );
    // The log key under another name: the name differs (and so does the id).
    let log = log_key();
    let other_name =
        parse_verifier_key(&verifier_key("waymark.example/other", &log.verifying_key())).unwrap();
    assert_eq!(
        open_checkpoint(&vector_note(), &other_name),
        Err(NoteError::UnknownKey)
    );
    // A forged key that claims the log key's name and id but holds another public key:
    // the signature line is the known key's, and fails to verify.
    let forged = VerifierKey {
        key: other.verifying_key(),
        ..log_verifier()
    };
    assert_eq!(
        open_checkpoint(&vector_note(), &forged),
        Err(NoteError::BadSignature)
    );
}

#[test]
fn wrong_origin() {
    // A genuine signature by the log key over a body naming another origin.
    let body = format!(
        "waymark.example/other\n4\n{}\n",
        B64.encode(vector_root(4).0)
    );
    let note = sign_note(&body, &[(ORIGIN, &log_key())]).unwrap();
    assert_eq!(
        open_checkpoint(&note, &log_verifier()),
        Err(NoteError::WrongOrigin {
            origin: "waymark.example/other".into(),
            key_name: ORIGIN.into(),
        })
    );
}

#[test]
fn size_plus_one() {
    let body = checkpoint_at(4).body().replace("\n4\n", "\n5\n");
    let note = with_body(&vector_note(), &body);
    assert_eq!(
        open_checkpoint(&note, &log_verifier()),
        Err(NoteError::BadSignature)
    );
}

#[test]
fn size_minus_one() {
    let body = checkpoint_at(4).body().replace("\n4\n", "\n3\n");
    let note = with_body(&vector_note(), &body);
    assert_eq!(
        open_checkpoint(&note, &log_verifier()),
        Err(NoteError::BadSignature)
    );
}

#[test]
fn bit_flip_in_signature() {
    let note = vector_note();
    let raw = signature_bytes(&note);
    assert_eq!(raw.len(), 68);
    assert_eq!(with_signature_bytes(&note, &raw), note);
    // Every bit of the 64-byte Ed25519 signature.
    for byte in 4..68 {
        for bit in 0..8 {
            let mut bad = raw.clone();
            bad[byte] ^= 1 << bit;
            assert_eq!(
                open_checkpoint(&with_signature_bytes(&note, &bad), &log_verifier()),
                Err(NoteError::BadSignature),
                "byte {byte} bit {bit}"
            );
        }
    }
    // A bit of the key id makes the line another key's, which is ignored.
    let mut bad = raw.clone();
    bad[0] ^= 1;
    assert_eq!(
        open_checkpoint(&with_signature_bytes(&note, &bad), &log_verifier()),
        Err(NoteError::UnknownKey)
    );
}

#[test]
fn truncated_signature() {
    let note = vector_note();
    let raw = signature_bytes(&note);
    // Shorter but well-formed signature lines: the known key's, and too short to verify.
    for len in [5, 36, 67] {
        assert_eq!(
            open_checkpoint(&with_signature_bytes(&note, &raw[..len]), &log_verifier()),
            Err(NoteError::BadSignature),
            "{len} bytes"
        );
    }
    // Too short to hold a key id and a signature byte.
    assert_eq!(
        open_checkpoint(&with_signature_bytes(&note, &raw[..4]), &log_verifier()),
        Err(NoteError::Malformed("bad signature line"))
    );
    // Cut inside the base64 text, so that it no longer decodes.
    let cut = format!("{}\n", &note[..note.len() - 3]);
    assert_eq!(
        open_checkpoint(&cut, &log_verifier()),
        Err(NoteError::Malformed("signature is not base64"))
    );
}

#[test]
fn trailing_garbage() {
    let note = vector_note();
    for tail in ["x", "garbage", " ", "\u{2014}"] {
        assert_eq!(
            open_checkpoint(&format!("{note}{tail}"), &log_verifier()),
            Err(NoteError::Malformed("signatures do not end in a newline")),
            "{tail:?}"
        );
    }
    for tail in ["garbage\n", " \n", "\u{2014}\n"] {
        assert_eq!(
            open_checkpoint(&format!("{note}{tail}"), &log_verifier()),
            Err(NoteError::Malformed(
                "signature line does not start with an em dash and a space"
            )),
            "{tail:?}"
        );
    }
    // A second blank line after the signature makes the signature part of the text.
    assert_eq!(
        open_checkpoint(&format!("{note}\n"), &log_verifier()),
        Err(NoteError::Malformed(
            "no signature lines after the blank line"
        ))
    );
    assert_eq!(
        open_checkpoint(&format!("{note}\0"), &log_verifier()),
        Err(NoteError::Malformed("control character in note"))
    );
}

#[test]
fn missing_blank_line() {
    let note = vector_note().replacen("\n\n", "\n", 1);
    assert_eq!(
        open_checkpoint(&note, &log_verifier()),
        Err(NoteError::Malformed(
            "no blank line between text and signatures"
        ))
    );
    // Without the signatures' final newline as well.
    assert_eq!(
        open_checkpoint(note.trim_end_matches('\n'), &log_verifier()),
        Err(NoteError::Malformed(
            "no blank line between text and signatures"
        ))
    );
}

#[test]
fn extra_signature_from_unknown_key_is_ignored() {
    let cp = checkpoint_at(4);
    let log = log_key();
    let witness = other_key(5);
    let impostor = other_key(6); // the log's name, another key (so another key id)
                                 // Before, after and around the log's own signature.
    let orders: [&[(&str, &SigningKey)]; 3] = [
        &[("witness.example/w1", &witness), (ORIGIN, &log)],
        &[(ORIGIN, &log), ("witness.example/w1", &witness)],
        &[
            (ORIGIN, &impostor),
            (ORIGIN, &log),
            ("witness.example/w1", &witness),
        ],
    ];
    for signers in orders {
        let note = sign_note(&cp.body(), signers).unwrap();
        assert_eq!(
            open_checkpoint(&note, &log_verifier()),
            Ok(cp.clone()),
            "{note}"
        );
    }
    // Appending a line to the vector note: the vector's signature still opens it.
    let extra = sign_note(&cp.body(), &[("witness.example/w1", &witness)]).unwrap();
    let line = extra.rsplit_once("\n\n").unwrap().1;
    assert_eq!(
        open_checkpoint(&format!("{}{line}", vector_note()), &log_verifier()),
        Ok(cp.clone())
    );
    // An unknown signature with garbage bytes is not checked either.
    let garbage = format!(
        "{}\u{2014} witness.example/w2 {}\n",
        vector_note(),
        B64.encode([7u8; 68])
    );
    assert_eq!(open_checkpoint(&garbage, &log_verifier()), Ok(cp.clone()));
    // ...but a note signed by unknown keys only is refused.
    let only_witness = sign_note(&cp.body(), &[("witness.example/w1", &witness)]).unwrap();
    assert_eq!(
        open_checkpoint(&only_witness, &log_verifier()),
        Err(NoteError::UnknownKey)
    );
}

#[test]
fn root_not_32_bytes() {
    for raw_len in [0usize, 31, 33, 64] {
        let body = format!("{ORIGIN}\n4\n{}\n", B64.encode(vec![1u8; raw_len]));
        let note = sign_note(&body, &[(ORIGIN, &log_key())]).unwrap();
        let expected = if raw_len == 0 {
            // An empty root line is an empty line.
            NoteError::MalformedCheckpoint("empty line in body")
        } else {
            NoteError::BadRootHash(B64.encode(vec![1u8; raw_len]))
        };
        assert_eq!(
            open_checkpoint(&note, &log_verifier()),
            Err(expected),
            "{raw_len}"
        );
    }
    // Hex, unpadded or non-canonical base64 of 32 bytes are refused too.
    let good = B64.encode(vector_root(4).0);
    let mut noncanonical = good.clone();
    noncanonical.replace_range(42..43, "V"); // "U=" -> "V=": stray trailing bits
    for bad in [
        vector_root(4).to_hex(),
        good.trim_end_matches('=').to_string(),
        noncanonical,
    ] {
        let body = format!("{ORIGIN}\n4\n{bad}\n");
        assert_eq!(
            Checkpoint::parse_body(&body),
            Err(NoteError::BadRootHash(bad.clone())),
            "{bad}"
        );
    }
}

#[test]
fn tree_sizes_are_decimal_without_sign_or_leading_zeros() {
    let root = B64.encode(vector_root(4).0);
    for bad in [
        "04",
        "+4",
        "-4",
        " 4",
        "4 ",
        "0x4",
        "18446744073709551616",
        "four",
    ] {
        let body = format!("{ORIGIN}\n{bad}\n{root}\n");
        assert_eq!(
            Checkpoint::parse_body(&body),
            Err(NoteError::BadTreeSize(bad.into())),
            "{bad:?}"
        );
        // Signed as it is, the note opens and the body is refused.
        let note = sign_note(&body, &[(ORIGIN, &log_key())]).unwrap();
        assert_eq!(
            open_checkpoint(&note, &log_verifier()),
            Err(NoteError::BadTreeSize(bad.into()))
        );
    }
    let zero = Checkpoint::parse_body(&format!("{ORIGIN}\n0\n{root}\n")).unwrap();
    assert_eq!(zero.size, 0);
}

#[test]
fn checkpoint_body_lines_are_strict_and_extension_lines_are_ignored() {
    let root = B64.encode(vector_root(4).0);
    let cp = checkpoint_at(4);
    let with_ext = format!("{ORIGIN}\n4\n{root}\nextension one\nx\n");
    assert_eq!(Checkpoint::parse_body(&with_ext), Ok(cp.clone()));
    let note = sign_note(&with_ext, &[(ORIGIN, &log_key())]).unwrap();
    assert_eq!(open_checkpoint(&note, &log_verifier()), Ok(cp));
    for (body, why) in [
        (
            format!("{ORIGIN}\n4\n{root}"),
            "body does not end in a newline",
        ),
        (
            format!("{ORIGIN}\n4\n"),
            "body needs origin, tree size and root lines",
        ),
        (
            format!("{ORIGIN}\n4\n{root}\n\next\n"),
            "empty line in body",
        ),
        (format!("\n4\n{root}\n"), "empty line in body"),
        (
            format!("{ORIGIN}\n4\n{root}\r\n"),
            "control character in body",
        ),
    ] {
        assert_eq!(
            Checkpoint::parse_body(&body),
            Err(NoteError::MalformedCheckpoint(why)),
            "{body:?}"
        );
    }
    // A body with an empty extension line, signed: the note splits at the last blank
    // line, so the text is the body and it is refused as a checkpoint.
    let note = sign_note(
        &format!("{ORIGIN}\n4\n{root}\n\next\n"),
        &[(ORIGIN, &log_key())],
    )
    .unwrap();
    assert_eq!(
        open_checkpoint(&note, &log_verifier()),
        Err(NoteError::MalformedCheckpoint("empty line in body"))
    );
}

#[test]
fn notes_are_utf8_without_control_characters_and_bounded() {
    let key = log_verifier();
    let mut bytes = vector_note().into_bytes();
    bytes[3] = 0xff;
    assert_eq!(
        open_checkpoint_bytes(&bytes, &key),
        Err(NoteError::Malformed("note is not UTF-8"))
    );
    let crlf = vector_note().replace('\n', "\r\n");
    assert_eq!(
        open_checkpoint(&crlf, &key),
        Err(NoteError::Malformed("control character in note"))
    );
    let tab = vector_note().replacen("waymark", "way\tmark", 1);
    assert_eq!(
        open_checkpoint(&tab, &key),
        Err(NoteError::Malformed("control character in note"))
    );
    let huge = format!("{}{}", "x".repeat(MAX_NOTE_BYTES), vector_note());
    assert_eq!(
        open_checkpoint(&huge, &key),
        Err(NoteError::TooLarge {
            limit: MAX_NOTE_BYTES
        })
    );
    // More than 100 signature lines, the log's first.
    let line = vector_note().rsplit_once("\n\n").unwrap().1.to_string();
    let many = format!("{}{}", vector_note(), line.repeat(MAX_SIGNATURES));
    assert_eq!(
        open_checkpoint(&many, &key),
        Err(NoteError::TooManySignatures {
            limit: MAX_SIGNATURES
        })
    );
    // Exactly 100 (the log's line repeated: only the first is checked, as in Go).
    let hundred = format!("{}{}", vector_note(), line.repeat(MAX_SIGNATURES - 1));
    assert_eq!(open_checkpoint(&hundred, &key), Ok(checkpoint_at(4)));
}

#[test]
fn malformed_signature_lines_are_refused_even_from_unknown_keys() {
    let note = vector_note();
    for (line, why) in [
        (
            "- witness.example/w1 AAAAAAA=",
            "signature line does not start with an em dash and a space",
        ),
        (
            "\u{2014}witness.example/w1 AAAAAAA=",
            "signature line does not start with an em dash and a space",
        ),
        ("\u{2014} witness.example/w1", "bad signature line"),
        ("\u{2014} witness.example/w1 ", "bad signature line"),
        ("\u{2014}  AAAAAAA=", "bad signature line"),
        ("\u{2014} a+b AAAAAAA=", "bad signature line"),
        (
            "\u{2014} witness.example/w1 AAAAAAA",
            "signature is not base64",
        ),
        (
            "\u{2014} witness.example/w1 AAAAAAA= x",
            "signature is not base64",
        ),
    ] {
        assert_eq!(
            open_checkpoint(&format!("{note}{line}\n"), &log_verifier()),
            Err(NoteError::Malformed(why)),
            "{line:?}"
        );
    }
}

#[test]
fn only_the_first_signature_line_of_the_known_key_is_checked() {
    // As Go's note.Open: a later duplicate of the known key is skipped, and a bad first
    // one rejects the note even when a good one follows.
    let note = vector_note();
    let raw = signature_bytes(&note);
    let mut bad = raw.clone();
    bad[40] ^= 1;
    let bad_line = format!("\u{2014} {ORIGIN} {}\n", B64.encode(&bad));
    assert_eq!(
        open_checkpoint(&format!("{note}{bad_line}"), &log_verifier()),
        Ok(checkpoint_at(4))
    );
    let (text, good_line) = note.rsplit_once("\n\n").unwrap();
    assert_eq!(
        open_checkpoint(&format!("{text}\n\n{bad_line}{good_line}"), &log_verifier()),
        Err(NoteError::BadSignature)
    );
}

#[test]
fn any_single_changed_byte_of_the_vector_checkpoint_is_caught() {
    let note = vector_note().into_bytes();
    let key = log_verifier();
    let mut checked = 0;
    for pos in 0..note.len() {
        for delta in [1u8, 0x20, 0x80] {
            let mut bad = note.clone();
            bad[pos] ^= delta;
            assert!(
                open_checkpoint_bytes(&bad, &key).is_err(),
                "byte {pos} ^ {delta:#x} went unnoticed"
            );
            checked += 1;
        }
    }
    assert_eq!(checked, note.len() * 3);
}

#[test]
fn sign_note_refuses_what_would_not_open() {
    let sk = log_key();
    assert_eq!(
        sign_note("no newline", &[(ORIGIN, &sk)]),
        Err(NoteError::Malformed("note text does not end in a newline"))
    );
    assert_eq!(
        sign_note("a\tb\n", &[(ORIGIN, &sk)]),
        Err(NoteError::Malformed("control character in note text"))
    );
    assert_eq!(
        sign_note("a\n", &[("a b", &sk)]),
        Err(NoteError::InvalidKeyName("a b".into()))
    );
}

// ------------------------------------------------------------------ proof documents

fn inclusion_doc(seq: u64, size: u64) -> InclusionProofDoc {
    let hs = hashes();
    InclusionProofDoc::prove("optimism", seq, size, |i| hs[i as usize]).unwrap()
}

fn consistency_doc(old: u64, new: u64) -> ConsistencyProofDoc {
    let hs = hashes();
    ConsistencyProofDoc::prove("optimism", old, new, |i| hs[i as usize]).unwrap()
}

fn vector_path(kind: &str, key: &str) -> Vec<Hash> {
    serde_json::from_value(vectors()["proofs"][kind][key].clone()).unwrap()
}

#[test]
fn vector_proofs_are_reproduced_and_verify_as_documents() {
    let hs = hashes();
    for size in 1..=4u64 {
        let cp = checkpoint_at(size);
        for seq in 1..=size {
            let doc = inclusion_doc(seq, size);
            assert_eq!(doc.path, vector_path("inclusion", &format!("{seq}@{size}")));
            assert_eq!(doc.leaf_hash, hs[seq as usize - 1]);
            let back = InclusionProofDoc::from_bytes(&doc.to_bytes()).unwrap();
            assert_eq!(back, doc);
            back.verify_checkpoint(&cp).unwrap();
        }
        for old in 1..=size {
            let doc = consistency_doc(old, size);
            assert_eq!(
                doc.path,
                vector_path("consistency", &format!("{old}->{size}"))
            );
            let back = ConsistencyProofDoc::from_bytes(&doc.to_bytes()).unwrap();
            assert_eq!(back, doc);
            back.verify_checkpoints(&checkpoint_at(old), &cp).unwrap();
        }
    }
}

#[test]
fn proof_documents_are_jcs_and_a_newline() {
    let doc = inclusion_doc(3, 4);
    assert_eq!(
        String::from_utf8(doc.to_bytes()).unwrap(),
        format!(
            "{{\"format\":\"waymark-inclusion/v1\",\"leaf_hash\":\"{}\",\"ledger\":\"optimism\",\
             \"path\":[\"887a06b6c1a5626d295cd8e1c3ca038f05f66cf64e2c7719ce725d10f46baaab\",\
             \"44677f60b09e7d43fa54fb45f61ab7cff7cb7b8e143b5ad74e25f91d300d890c\"],\
             \"seq\":3,\"tree_size\":4}}\n",
            hashes()[2]
        )
    );
    let doc = consistency_doc(2, 4);
    assert_eq!(
        String::from_utf8(doc.to_bytes()).unwrap(),
        "{\"format\":\"waymark-consistency/v1\",\"ledger\":\"optimism\",\"new_size\":4,\
         \"old_size\":2,\"path\":[\"034306feb989b1d292509e7519ec1cfdb54d8c513b0d0b6bab9d44c14c794e89\"]}\n"
    );
}

#[test]
fn bit_flip_in_path() {
    let cp = checkpoint_at(4);
    let doc = inclusion_doc(3, 4);
    for i in 0..doc.path.len() {
        let mut bad = doc.clone();
        bad.path[i].0[31] ^= 1;
        assert!(matches!(
            bad.verify_checkpoint(&cp),
            Err(DocError::Proof(ProofError::RootMismatch { .. }))
        ));
    }
    let doc = consistency_doc(3, 4);
    for i in 0..doc.path.len() {
        let mut bad = doc.clone();
        bad.path[i].0[0] ^= 0x80;
        assert!(matches!(
            bad.verify_checkpoints(&checkpoint_at(3), &cp),
            Err(DocError::Proof(ProofError::RootMismatch { .. }))
        ));
    }
}

#[test]
fn truncated_path() {
    let cp = checkpoint_at(4);
    let mut doc = inclusion_doc(3, 4);
    doc.path.pop();
    assert_eq!(
        doc.verify_checkpoint(&cp),
        Err(DocError::Proof(ProofError::WrongPathLength {
            expected: 2,
            got: 1
        }))
    );
    let mut doc = consistency_doc(3, 4);
    doc.path.pop();
    assert_eq!(
        doc.verify_checkpoints(&checkpoint_at(3), &cp),
        Err(DocError::Proof(ProofError::WrongPathLength {
            expected: 3,
            got: 2
        }))
    );
}

#[test]
fn extra_path_element() {
    let cp = checkpoint_at(4);
    let mut doc = inclusion_doc(3, 4);
    doc.path.push(vector_root(2));
    assert_eq!(
        doc.verify_checkpoint(&cp),
        Err(DocError::Proof(ProofError::WrongPathLength {
            expected: 2,
            got: 3
        }))
    );
    let mut doc = consistency_doc(3, 4);
    doc.path.push(vector_root(2));
    assert_eq!(
        doc.verify_checkpoints(&checkpoint_at(3), &cp),
        Err(DocError::Proof(ProofError::WrongPathLength {
            expected: 3,
            got: 4
        }))
    );
    // Equal sizes take the empty path only.
    let mut doc = consistency_doc(4, 4);
    assert!(doc.path.is_empty());
    doc.path.push(vector_root(4));
    assert_eq!(
        doc.verify_checkpoints(&cp, &cp),
        Err(DocError::Proof(ProofError::WrongPathLength {
            expected: 0,
            got: 1
        }))
    );
}

#[test]
fn wrong_leaf() {
    let cp = checkpoint_at(4);
    let hs = hashes();
    // Another event's hash, and a hash of nothing in the log.
    for leaf in [hs[0], hs[3], leaf_hash(b"not an event")] {
        let mut doc = inclusion_doc(3, 4);
        doc.leaf_hash = leaf;
        assert!(matches!(
            doc.verify_checkpoint(&cp),
            Err(DocError::Proof(ProofError::RootMismatch { .. }))
        ));
    }
    // The right leaf claimed at another position.
    let mut doc = inclusion_doc(3, 4);
    doc.seq = 4;
    assert!(matches!(
        doc.verify_checkpoint(&cp),
        Err(DocError::Proof(ProofError::RootMismatch { .. }))
    ));
    doc.seq = 5;
    assert_eq!(
        doc.verify_checkpoint(&cp),
        Err(DocError::Proof(ProofError::IndexOutOfRange {
            index: 4,
            size: 4
        }))
    );
    doc.seq = 0;
    assert_eq!(doc.verify(&cp.root), Err(DocError::SeqZero));
}

#[test]
fn wrong_tree_size() {
    let mut doc = inclusion_doc(2, 4);
    // Checked against the size-4 checkpoint, the document's size must match first.
    for size in [3, 5] {
        doc.tree_size = size;
        assert_eq!(
            doc.verify_checkpoint(&checkpoint_at(4)),
            Err(DocError::TreeSizeMismatch {
                doc: size,
                checkpoint: 4
            })
        );
    }
    // Against a bare root the size only shapes the path: the path of seq 2 is the same
    // at sizes 3 and 4, so this document still hashes to the size-4 root (which is why
    // `verify_checkpoint` checks the size against the signed one first) but not to the
    // size-3 root it claims; for size 5 it is too short.
    doc.tree_size = 3;
    assert_eq!(doc.verify(&vector_root(4)), Ok(()));
    assert!(matches!(
        doc.verify(&vector_root(3)),
        Err(DocError::Proof(ProofError::RootMismatch { .. }))
    ));
    doc.tree_size = 5;
    assert_eq!(
        doc.verify(&vector_root(4)),
        Err(DocError::Proof(ProofError::WrongPathLength {
            expected: 3,
            got: 2
        }))
    );

    let mut doc = consistency_doc(2, 4);
    doc.old_size = 3;
    assert_eq!(
        doc.verify_checkpoints(&checkpoint_at(2), &checkpoint_at(4)),
        Err(DocError::TreeSizeMismatch {
            doc: 3,
            checkpoint: 2
        })
    );
    let mut doc = consistency_doc(2, 4);
    doc.new_size = 3;
    assert_eq!(
        doc.verify_checkpoints(&checkpoint_at(2), &checkpoint_at(4)),
        Err(DocError::TreeSizeMismatch {
            doc: 3,
            checkpoint: 4
        })
    );
    // Against bare roots: the proof 2 -> 4 is shaped as one 2 -> 3 would be, so it still
    // leads to the size-4 root, but not to the size-3 root it now claims.
    assert_eq!(doc.verify(&vector_root(2), &vector_root(4)), Ok(()));
    assert!(matches!(
        doc.verify(&vector_root(2), &vector_root(3)),
        Err(DocError::Proof(ProofError::RootMismatch { .. }))
    ));
    let mut doc = consistency_doc(2, 4);
    doc.old_size = 5;
    assert_eq!(
        doc.verify(&vector_root(2), &vector_root(4)),
        Err(DocError::Proof(ProofError::OldSizeExceedsNew {
            old: 5,
            new: 4
        }))
    );
    doc.old_size = 0;
    assert_eq!(
        doc.verify(&vector_root(2), &vector_root(4)),
        Err(DocError::Proof(ProofError::OldSizeZero))
    );
}

#[test]
fn proof_documents_parse_strictly() {
    let good = inclusion_doc(2, 4).to_bytes();
    let mut v: Value = serde_json::from_slice(&good).unwrap();
    assert!(InclusionProofDoc::from_bytes(&good).is_ok());
    // Any layout of the same JSON is read.
    let pretty = serde_json::to_vec_pretty(&v).unwrap();
    assert_eq!(
        InclusionProofDoc::from_bytes(&pretty),
        InclusionProofDoc::from_bytes(&good)
    );

    let parse = |v: &Value| InclusionProofDoc::from_bytes(&serde_json::to_vec(v).unwrap());
    v["format"] = json!("waymark-consistency/v1");
    assert_eq!(
        parse(&v),
        Err(DocError::WrongFormat {
            expected: INCLUSION_FORMAT,
            got: "waymark-consistency/v1".into()
        })
    );
    v["format"] = json!(INCLUSION_FORMAT);
    v["extra"] = json!(1);
    assert!(matches!(parse(&v), Err(DocError::Shape(m)) if m.contains("extra")));
    v.as_object_mut().unwrap().remove("extra");
    v.as_object_mut().unwrap().remove("format");
    assert!(matches!(parse(&v), Err(DocError::Shape(m)) if m.contains("format")));
    v["format"] = json!(INCLUSION_FORMAT);
    let upper = v["leaf_hash"].as_str().unwrap().to_uppercase();
    let mut w = v.clone();
    w["leaf_hash"] = json!(upper);
    assert!(matches!(parse(&w), Err(DocError::Shape(_))));
    let mut w = v.clone();
    w["path"][0] = json!("00");
    assert!(matches!(parse(&w), Err(DocError::Shape(_))));
    let mut w = v.clone();
    w["seq"] = json!(0);
    assert_eq!(parse(&w), Err(DocError::SeqZero));
    let mut w = v.clone();
    w["seq"] = json!(-1);
    assert!(matches!(parse(&w), Err(DocError::Shape(_))));
    let mut w = v.clone();
    w["ledger"] = json!("Optimism");
    assert_eq!(parse(&w), Err(DocError::BadLedgerId("Optimism".into())));

    let text = String::from_utf8(good).unwrap();
    assert!(matches!(
        InclusionProofDoc::from_bytes(text.replace("\"seq\":2", "\"seq\":2.0").as_bytes()),
        Err(DocError::Json(InputError::Float(_)))
    ));
    assert!(matches!(
        InclusionProofDoc::from_bytes(text.replace("\"seq\":2", "\"seq\":2,\"seq\":2").as_bytes()),
        Err(DocError::Json(InputError::DuplicateKey(_)))
    ));
    assert!(matches!(
        InclusionProofDoc::from_bytes(format!("{text} x").as_bytes()),
        Err(DocError::Json(InputError::Syntax(_)))
    ));

    let c = consistency_doc(1, 4).to_bytes();
    assert!(matches!(
        ConsistencyProofDoc::from_bytes(&good_with_format(&c, INCLUSION_FORMAT)),
        Err(DocError::WrongFormat {
            expected: CONSISTENCY_FORMAT,
            ..
        })
    ));
    // Documents deserialize strictly through serde too.
    assert!(serde_json::from_slice::<ConsistencyProofDoc>(&c).is_ok());
    assert!(serde_json::from_slice::<InclusionProofDoc>(&c).is_err());
}

fn good_with_format(bytes: &[u8], format: &str) -> Vec<u8> {
    let mut v: Value = serde_json::from_slice(bytes).unwrap();
    v["format"] = json!(format);
    serde_json::to_vec(&v).unwrap()
}

#[test]
fn proving_refuses_what_cannot_be_proved() {
    let hs = hashes();
    let at = |i: u64| hs[i as usize];
    assert_eq!(
        InclusionProofDoc::prove("optimism", 0, 4, at),
        Err(DocError::SeqZero)
    );
    assert_eq!(
        InclusionProofDoc::prove("optimism", 5, 4, at),
        Err(DocError::Proof(ProofError::IndexOutOfRange {
            index: 4,
            size: 4
        }))
    );
    assert_eq!(
        ConsistencyProofDoc::prove("optimism", 0, 4, at),
        Err(DocError::Proof(ProofError::OldSizeZero))
    );
    assert_eq!(
        ConsistencyProofDoc::prove("Bad Ledger", 1, 4, at),
        Err(DocError::BadLedgerId("Bad Ledger".into()))
    );
}

// ------------------------------------------------------------------ snapshot bundle

fn snapshot_at(size: u64) -> SnapshotBundle {
    SnapshotBundle {
        ledger: "optimism".into(),
        tree_size: size,
        head_hash: hashes()[size as usize - 1],
        checkpoint: sign_checkpoint(&checkpoint_at(size), &log_key()),
        status: vectors()["status"][size.to_string()].clone(),
    }
}

#[test]
fn snapshot_bundles_round_trip_as_jcs_and_a_newline() {
    let snap = snapshot_at(4);
    let bytes = snap.to_bytes();
    assert_eq!(bytes.last(), Some(&b'\n'));
    let value = parse_strict(&bytes[..bytes.len() - 1]).unwrap();
    assert_eq!(canonical_bytes(&value), bytes[..bytes.len() - 1]);
    assert_eq!(value["format"], SNAPSHOT_FORMAT);
    assert_eq!(value["checkpoint"], vector_note());
    assert_eq!(SnapshotBundle::from_bytes(&bytes), Ok(snap.clone()));
    assert_eq!(snap.open_checkpoint(&log_verifier()), Ok(checkpoint_at(4)));
}

#[test]
fn snapshot_bundles_parse_strictly_and_check_their_checkpoint() {
    let snap = snapshot_at(3);
    let mut v: Value = serde_json::from_slice(&snap.to_bytes()).unwrap();
    let parse = |v: &Value| SnapshotBundle::from_bytes(&serde_json::to_vec(v).unwrap());
    v["status"] = json!([]);
    assert_eq!(
        parse(&v),
        Err(DocError::Shape("status must be a JSON object".into()))
    );
    v["status"] = json!({});
    v["format"] = json!("waymark-snapshot/v2");
    assert!(matches!(parse(&v), Err(DocError::WrongFormat { .. })));
    v["format"] = json!(SNAPSHOT_FORMAT);
    v["extra"] = json!(null);
    assert!(matches!(parse(&v), Err(DocError::Shape(_))));

    // A bundle whose tree size is not its checkpoint's.
    let mut wrong = snapshot_at(3);
    wrong.tree_size = 4;
    assert_eq!(
        wrong.open_checkpoint(&log_verifier()),
        Err(DocError::TreeSizeMismatch {
            doc: 4,
            checkpoint: 3
        })
    );
    // A bundle whose checkpoint does not open.
    let mut forged = snapshot_at(3);
    forged.checkpoint = forged.checkpoint.replace("\n3\n", "\n4\n");
    assert_eq!(
        forged.open_checkpoint(&log_verifier()),
        Err(DocError::Note(NoteError::BadSignature))
    );
}

// ------------------------------------------------------------------ fixtures for Go

/// Writes the artifacts above into `$WAYMARK_GO_FIXTURES` for `tests/go/run.sh`; does
/// nothing when the variable is unset.
#[test]
fn write_go_fixtures() {
    let Some(dir) = std::env::var_os("WAYMARK_GO_FIXTURES") else {
        return;
    };
    let dir = std::path::PathBuf::from(dir);
    std::fs::create_dir_all(&dir).unwrap();
    let write = |name: String, bytes: &[u8]| std::fs::write(dir.join(name), bytes).unwrap();
    write(
        "verifier-key.txt".into(),
        format!(
            "{}\n",
            vectors()["keys"]["log"]["verifier_key"].as_str().unwrap()
        )
        .as_bytes(),
    );
    // The size-4 checkpoint cosigned by a witness key, for note.Open to ignore.
    let cosigned = sign_note(
        &checkpoint_at(4).body(),
        &[(ORIGIN, &log_key()), ("witness.example/w1", &other_key(5))],
    )
    .unwrap();
    write("checkpoint-4-cosigned.txt".into(), cosigned.as_bytes());
    for size in 1..=4u64 {
        write(
            format!("checkpoint-{size}.txt"),
            sign_checkpoint(&checkpoint_at(size), &log_key()).as_bytes(),
        );
        for seq in 1..=size {
            write(
                format!("inclusion-{seq}-at-{size}.json"),
                &inclusion_doc(seq, size).to_bytes(),
            );
        }
        for old in 1..=size {
            write(
                format!("consistency-{old}-to-{size}.json"),
                &consistency_doc(old, size).to_bytes(),
            );
        }
        write(
            format!("snapshot-{size}.json"),
            &snapshot_at(size).to_bytes(),
        );
    }
}
