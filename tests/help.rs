//! Help that teaches (issue 15): every argument described, the top-level help points
//! a newcomer at the demo and lists exit codes and examples, and a command's help
//! offers only the options that have an effect on it.

use std::process::Command;

fn help(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_waymark"))
        .args(args)
        .arg("--help")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{args:?}");
    String::from_utf8(out.stdout).unwrap()
}

/// Every visible argument and option of every command, at every depth, has a
/// description.
#[test]
fn every_argument_and_option_is_described() {
    fn walk(cmd: &clap::Command, path: &str, checked: &mut usize) {
        for a in cmd.get_arguments() {
            if a.is_hide_set() {
                continue;
            }
            assert!(
                a.get_help().is_some(),
                "`{path}` has no description for {}",
                a.get_id()
            );
            *checked += 1;
        }
        for sub in cmd.get_subcommands() {
            if sub.get_name() != "help" {
                assert!(
                    sub.get_about().is_some(),
                    "`{path} {}` has no about",
                    sub.get_name()
                );
                walk(sub, &format!("{path} {}", sub.get_name()), checked);
            }
        }
    }
    let mut cmd = waymark::command();
    cmd.build();
    let mut checked = 0;
    walk(&cmd, "waymark", &mut checked);
    assert!(checked > 100, "{checked} arguments checked");
}

#[test]
fn the_top_level_help_starts_with_the_demo_and_lists_exit_codes_and_examples() {
    let h = help(&[]);
    assert!(h.starts_with("New here? Run `waymark demo`"), "{h}");
    assert!(h.contains("Examples:\n  waymark demo\n"), "{h}");
    for code in [
        "0 done",
        "1 rejected",
        "2 usage",
        "3 verification failed",
        "4 storage",
    ] {
        assert!(h.contains(code), "{code}: {h}");
    }
}

#[test]
fn a_command_offers_only_the_options_that_act_on_it() {
    let h = help(&["verify-offline"]);
    for absent in ["--db", "--keys", "--as", "--server", "--ledger"] {
        assert!(!h.contains(absent), "verify-offline offers {absent}:\n{h}");
    }
    for present in ["--log", "--snapshot", "--key", "--json"] {
        assert!(h.contains(present), "{present}:\n{h}");
    }
    let h = help(&["status"]);
    assert!(!h.contains("--as ") && !h.contains("--keys"), "{h}");
    assert!(h.contains("--db") && h.contains("--server"), "{h}");
    // Hidden is not refused: scripts that pass a global option everywhere still run.
    let out = Command::new(env!("CARGO_BIN_EXE_waymark"))
        .args([
            "verify-offline",
            "--db",
            "sqlite://unused.db",
            "--log",
            "/nonexistent",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4));
}

#[test]
fn demo_help_shows_the_defaults_the_demo_uses() {
    let h = help(&["demo"]);
    assert!(h.contains("sqlite://waymark-demo.db"), "{h}");
    assert!(h.contains("./waymark-demo-keys"), "{h}");
    assert!(!h.contains("--as ") && !h.contains("--server"), "{h}");
}
