//! The client a log uses to ask witnesses (`waymark::witness::Client`), against
//! canned answers (each kind of answer becomes its outcome), and the witness served
//! in-process on port 0 (`waymark::witness::run`), as a log's own tests run it beside
//! its publisher.

use ed25519_dalek::SigningKey;
use waymark::witness::{accept_cosignature, Client, Outcome, SIZE_CONTENT_TYPE};
use waymark_events::*;

/// A server that answers every request with `answer` (raw HTTP), then closes.
fn canned(answer: &'static str) -> String {
    use std::io::{BufRead, BufReader, Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut len = 0;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    len = v.trim().parse().unwrap();
                }
            }
            let mut body = vec![0; len];
            let _ = reader.read_exact(&mut body);
            let _ = stream.write_all(answer.as_bytes());
        }
    });
    base
}

/// Each kind of answer a witness can give becomes its outcome: cosignature lines,
/// the witness's size, a refusal with its status and reason, or unreachable.
#[test]
fn the_client_classifies_every_answer() {
    let ok_line = "\u{2014} witness.example/w1 CMp+6LWBU0anHGH5aNDTJkH/gj79sG+T6+iP2ThYN5krrDJbR1HDnucjL39QsZTSvVjyQLrdk3DXDqI5G2HgLatVs0pWh6Up69HVOw==\n";
    let answer = |head: &str, ctype: &str, body: &str| -> &'static str {
        Box::leak(
            format!(
                "HTTP/1.1 {head}\r\ncontent-type: {ctype}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            )
            .into_boxed_str(),
        )
    };
    let client = Client::new(std::time::Duration::from_secs(5));
    let submit =
        |a: &'static str| client.submit(&canned(a), 3, &[], "note\n\n\u{2014} x AAAAAAA=\n");
    assert_eq!(
        submit(answer("200 OK", "text/plain", ok_line)).unwrap(),
        Outcome::Cosigned(ok_line.into())
    );
    assert_eq!(
        submit(answer("409 Conflict", SIZE_CONTENT_TYPE, "12\n")).unwrap(),
        Outcome::SizeMismatch { witness_size: 12 }
    );
    for (a, status, says) in [
        (
            answer("409 Conflict", "text/plain", "another root\n"),
            409,
            "another root",
        ),
        (
            answer("409 Conflict", SIZE_CONTENT_TYPE, "012\n"),
            409,
            "not a tree size",
        ),
        (
            answer("200 OK", "text/plain", "cosigned!\n"),
            200,
            "not cosignature lines",
        ),
        (
            answer("403 Forbidden", "text/plain", "bad signature\n"),
            403,
            "bad signature",
        ),
        (answer("302 Found", "text/plain", ""), 302, "redirect"),
        (
            answer("404 Not Found", "text/plain", ""),
            404,
            "answered 404",
        ),
    ] {
        match submit(a).unwrap() {
            Outcome::Refused { status: s, reason } => {
                assert_eq!(s, status, "{reason}");
                assert!(reason.contains(says), "{says}: {reason}");
            }
            other => panic!("{status}: {other:?}"),
        }
    }
    for a in [
        answer("503 Service Unavailable", "text/plain", "busy\n"),
        answer("429 Too Many Requests", "text/plain", ""),
    ] {
        let e = submit(a).unwrap_err();
        assert!(!e.timed_out);
        assert_eq!(waymark::Error::from(e).exit_code(), 4);
    }
    // Nothing listening.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    assert!(client
        .submit(&format!("http://{closed}"), 0, &[], "n")
        .is_err());
}

/// The witness served in-process on port 0 (`waymark::witness::run`), as a log's
/// tests run it beside the publisher.
#[test]
fn the_witness_runs_in_process_on_port_0() {
    use waymark::witness::{Witness, WitnessDir};
    let t = tempfile::tempdir().unwrap();
    let log = SigningKey::from_bytes(&[8; 32]);
    let log_vkey = verifier_key("example.org/inproc", &log.verifying_key());
    let leaves: Vec<Hash> = (0..7u8).map(|i| leaf_hash(&[i])).collect();
    let note = |n: usize| {
        sign_checkpoint(
            &Checkpoint::new("example.org/inproc", n as u64, root(&leaves[..n])).unwrap(),
            &log,
        )
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let witness = rt.block_on(async {
        let w = Witness::init(&WitnessDir::new(t.path().join("w")), "witness.example/w1")
            .await
            .unwrap();
        w.add_log(&log_vkey).await.unwrap();
        w
    });
    let key = parse_cosigner_key(&witness.vkey()).unwrap();
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = rt.spawn(waymark::witness::run(
        listener,
        std::sync::Arc::new(witness),
        async {
            let _ = stopped.await;
        },
    ));
    let client = Client::default();
    let Outcome::Cosigned(lines) = client.submit(&base, 0, &[], &note(3)).unwrap() else {
        panic!()
    };
    accept_cosignature(&note(3), &lines, &key).unwrap();
    let proof = consistency_proof(3, 7, |i| leaves[i as usize]).unwrap();
    let Outcome::Cosigned(lines) = client.submit(&base, 3, &proof, &note(7)).unwrap() else {
        panic!()
    };
    let (cosigned, at) = accept_cosignature(&note(7), &lines, &key).unwrap();
    assert!(at > 1_700_000_000);
    assert_eq!(
        check_cosignatures(&cosigned, &[key]).unwrap(),
        [CosignatureCheck::Valid { timestamp: at }]
    );
    let _ = stop.send(());
    rt.block_on(server).unwrap().unwrap();
}
