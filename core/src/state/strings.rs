//! One walk over a statement's strings: U+0000 (SPEC section 2) and over-long
//! strings (rule 8).

use super::MAX_STRING_CHARS;
use serde_json::Value;

/// What one walk over a statement's strings finds: the first (in document order)
/// that holds U+0000, a key or a value (SPEC section 2), and the first value over
/// [`MAX_STRING_CHARS`] characters (rule 8), each by its path. The recorder and every
/// replay run this per statement, so a path is rendered only for what is found (the
/// two walks it replaces each built one per node).
#[derive(Default)]
pub(super) struct StringFaults {
    pub(super) nul: Option<String>,
    pub(super) long: Option<(String, usize)>,
}

enum Step<'a> {
    Key(&'a str),
    Index(usize),
}

fn render(path: &[Step<'_>]) -> String {
    let mut out = String::new();
    for step in path {
        match step {
            Step::Key(k) if out.is_empty() => out.push_str(k),
            Step::Key(k) => {
                out.push('.');
                out.push_str(k);
            }
            Step::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    out
}

pub(super) fn string_faults(v: &Value) -> StringFaults {
    fn walk<'a>(v: &'a Value, path: &mut Vec<Step<'a>>, f: &mut StringFaults) {
        if f.nul.is_some() && f.long.is_some() {
            return;
        }
        match v {
            Value::String(s) => {
                if f.nul.is_none() && s.contains('\0') {
                    f.nul = Some(render(path));
                }
                // A string of at most MAX_STRING_CHARS bytes has at most as many chars.
                if f.long.is_none() && s.len() > MAX_STRING_CHARS {
                    let n = s.chars().count();
                    if n > MAX_STRING_CHARS {
                        f.long = Some((render(path), n));
                    }
                }
            }
            Value::Array(a) => {
                for (i, x) in a.iter().enumerate() {
                    path.push(Step::Index(i));
                    walk(x, path, f);
                    path.pop();
                }
            }
            Value::Object(m) => {
                for (k, x) in m {
                    path.push(Step::Key(k));
                    if f.nul.is_none() && k.contains('\0') {
                        f.nul = Some(render(path));
                    }
                    walk(x, path, f);
                    path.pop();
                }
            }
            _ => {}
        }
    }
    let mut f = StringFaults::default();
    walk(v, &mut Vec::new(), &mut f);
    f
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_walk_names_the_first_nul_and_the_first_long_string_by_path() {
        let long = "é".repeat(MAX_STRING_CHARS + 1);
        let v = serde_json::json!({
            "payload": {"assessments": [{"note": "fine"}, {"note": long}], "reason": "a\u{0}b"},
            "x\u{0}": "key",
        });
        let f = string_faults(&v);
        assert_eq!(f.nul.as_deref(), Some("payload.reason"));
        assert_eq!(
            f.long,
            Some(("payload.assessments[1].note".into(), MAX_STRING_CHARS + 1))
        );
        // 4,096 two-byte characters are 8,192 bytes but within the limit.
        let at_limit = serde_json::json!({"s": "é".repeat(MAX_STRING_CHARS)});
        let f = string_faults(&at_limit);
        assert!(f.nul.is_none() && f.long.is_none());
        let key = serde_json::json!({"a": {"b\u{0}": 1}});
        assert_eq!(string_faults(&key).nul.as_deref(), Some("a.b\u{0}"));
    }
}
