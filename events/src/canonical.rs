//! Canonical bytes (RFC 8785, through `serde_jcs`) and strict JSON input.

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Serialize;
use serde_json::{Map, Number, Value};
use std::collections::HashSet;
use std::fmt;

/// Largest integer a payload may hold (2^53 − 1), SPEC section 2.
pub const MAX_SAFE_INTEGER: i64 = 9_007_199_254_740_991;

/// RFC 8785 canonical bytes of any serializable value.
pub fn canonical_bytes<T: Serialize + ?Sized>(value: &T) -> Vec<u8> {
    match serde_json::to_value(value) {
        Ok(v) => canonical_value(&v),
        // Not JSON (a non-string map key, NaN): serde_jcs says so the same way.
        Err(_) => serde_jcs::to_vec(value).unwrap_or_default(),
    }
}

/// RFC 8785 canonical bytes of a JSON value.
pub fn canonical_value(value: &Value) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    write_canonical(value, &mut out);
    out
}

/// Appends the RFC 8785 form of `value` to `out`.
///
/// Hand-written on purpose: `serde_jcs` buffers and re-sorts through its own
/// serializer, which made hashing an event cost ≈ 125 k instructions (issue 6's
/// profile), almost all of it allocation. Everything Waymark hashes or signs is
/// strings, integers, booleans, arrays and objects, so the only JCS work is member
/// order (UTF-16 code units, RFC 8785 §3.2.3) and string escaping, which is exactly
/// serde_json's compact escaping (`\"`, `\\`, `\b \f \n \r \t`, other controls as
/// lowercase `\u00xx`). A non-integer number, which this crate never produces, is
/// handed to `serde_jcs` for its ECMAScript formatting. The tests compare both on
/// random values.
pub fn write_canonical(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                out.extend_from_slice(itoa::Buffer::new().format(i).as_bytes());
            } else if let Some(u) = n.as_u64() {
                out.extend_from_slice(itoa::Buffer::new().format(u).as_bytes());
            } else {
                out.extend(serde_jcs::to_vec(n).unwrap_or_default());
            }
        }
        Value::String(s) => write_string(s, out),
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_canonical(item, out);
            }
            out.push(b']');
        }
        Value::Object(members) => {
            let mut sorted: Vec<(&String, &Value)> = members.iter().collect();
            // A map iterates in byte order (or insertion order with serde_json's
            // `preserve_order`), so sort; byte order and UTF-16 order differ only
            // for characters above U+FFFF, where the slow comparison is used.
            sorted.sort_unstable_by(|a, b| utf16_cmp(a.0, b.0));
            out.push(b'{');
            for (i, (k, v)) in sorted.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_string(k, out);
                out.push(b':');
                write_canonical(v, out);
            }
            out.push(b'}');
        }
    }
}

fn utf16_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    let supplementary = |s: &str| s.bytes().any(|b| b >= 0xF0);
    if supplementary(a) || supplementary(b) {
        a.encode_utf16().cmp(b.encode_utf16())
    } else {
        a.cmp(b)
    }
}

/// A JSON string as RFC 8785 writes it (serde_json's compact escaping is the same).
pub fn write_string(s: &str, out: &mut Vec<u8>) {
    // Writing into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, s);
}

/// Why outside JSON was refused before anything was recorded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InputError {
    #[error("malformed JSON: {0}")]
    Syntax(String),
    #[error("floating-point number {0} is not allowed (integers only)")]
    Float(String),
    #[error("integer {0} is outside ±(2^53−1)")]
    IntegerRange(String),
    #[error("duplicate key \"{0}\"")]
    DuplicateKey(String),
    #[error("nesting deeper than {0} levels")]
    TooDeep(usize),
}

const MAX_DEPTH: usize = 64;

/// Parses JSON the way SPEC section 2 demands: invalid UTF-8, floats, integers beyond
/// ±(2^53−1) and duplicate keys are errors. `serde_json` alone keeps the last duplicate
/// and accepts floats, and no maintained crate offers this check, so it is a small
/// visitor over serde_json's own parser.
pub fn parse_strict(bytes: &[u8]) -> Result<Value, InputError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = StrictSeed { depth: 0 }
        .deserialize_into(&mut de)
        .map_err(|e| classify(&e))?;
    de.end().map_err(|e| InputError::Syntax(e.to_string()))?;
    Ok(value)
}

fn classify(e: &serde_json::Error) -> InputError {
    let msg = e.to_string();
    for (tag, make) in [
        ("\u{1}float:", InputError::Float as fn(String) -> InputError),
        ("\u{1}range:", InputError::IntegerRange),
        ("\u{1}dup:", InputError::DuplicateKey),
    ] {
        if let Some(rest) = msg.strip_prefix(tag) {
            let end = rest.find('\u{1}').unwrap_or(rest.len());
            return make(rest[..end].to_string());
        }
    }
    if msg.starts_with("\u{1}depth") {
        return InputError::TooDeep(MAX_DEPTH);
    }
    InputError::Syntax(msg)
}

struct StrictSeed {
    depth: usize,
}

impl StrictSeed {
    fn deserialize_into<'de, D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        if self.depth > MAX_DEPTH {
            return Err(de::Error::custom("\u{1}depth"));
        }
        d.deserialize_any(self)
    }
}

impl<'de> de::DeserializeSeed<'de> for StrictSeed {
    type Value = Value;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        self.deserialize_into(d)
    }
}

fn int_value<E: de::Error>(v: i128) -> Result<Value, E> {
    if v.unsigned_abs() > MAX_SAFE_INTEGER as u128 {
        return Err(E::custom(format!("\u{1}range:{v}\u{1}")));
    }
    Ok(Value::Number(Number::from(v as i64)))
}

impl<'de> Visitor<'de> for StrictSeed {
    type Value = Value;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        int_value(i128::from(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        int_value(i128::from(v))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        Err(E::custom(format!("\u{1}float:{v}\u{1}")))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::new();
        while let Some(v) = seq.next_element_seed(StrictSeed {
            depth: self.depth + 1,
        })? {
            out.push(v);
        }
        Ok(Value::Array(out))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        let mut seen = HashSet::new();
        while let Some(key) = map.next_key::<String>()? {
            if !seen.insert(key.clone()) {
                return Err(de::Error::custom(format!("\u{1}dup:{key}\u{1}")));
            }
            let v = map.next_value_seed(StrictSeed {
                depth: self.depth + 1,
            })?;
            out.insert(key, v);
        }
        Ok(Value::Object(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jcs_of(text: &str) -> String {
        let v: Value = serde_json::from_str(text).unwrap();
        String::from_utf8(canonical_bytes(&v)).unwrap()
    }

    // RFC 8785 section 3.2.2 (the "sample" input) and its canonical output, verbatim.
    #[test]
    fn canonicalizer_matches_rfc8785_sample() {
        let input = r#"{
  "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
  "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
  "literals": [null, true, false]
}"#;
        assert_eq!(
            jcs_of(input),
            r#"{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\u000f\nA'B\"\\\\\"/"}"#
        );
    }

    // RFC 8785 section 3.2.3: keys sorted by UTF-16 code units, not by UTF-8 bytes.
    #[test]
    fn canonicalizer_sorts_keys_by_utf16_code_units() {
        let input = r#"{"\u20ac":"Euro Sign","\r":"Carriage Return","\ufb33":"Hebrew Letter Dalet With Dagesh","1":"One","\ud83d\ude00":"Emoji: Grinning Face","\u0080":"Control","\u00f6":"Latin Small Letter O With Diaeresis"}"#;
        let out = jcs_of(input);
        let order: Vec<&str> = [
            "Carriage Return",
            "One",
            "Control",
            "Latin Small",
            "Euro Sign",
            "Emoji",
            "Hebrew",
        ]
        .to_vec();
        let positions: Vec<usize> = order.iter().map(|s| out.find(s).unwrap()).collect();
        assert!(positions.windows(2).all(|w| w[0] < w[1]), "{out}");
    }

    // RFC 8785 Appendix B: IEEE 754 numbers and their JCS text.
    #[test]
    fn canonicalizer_formats_numbers_as_rfc8785_appendix_b() {
        for (bits, text) in [
            (0x0000000000000000u64, "0"),
            (0x8000000000000000, "0"),
            (0x0000000000000001, "5e-324"),
            (0x7fefffffffffffff, "1.7976931348623157e+308"),
            (0x4340000000000000, "9007199254740992"),
            (0x444b1ae4d6e2ef50, "1e+21"),
            (0x3eb0c6f7a0b5ed8d, "0.000001"),
            (0x3eb0c6f7a0b5ed8c, "9.999999999999997e-7"),
            (0x41b3de4355555555, "333333333.3333333"),
        ] {
            let v = f64::from_bits(bits);
            assert_eq!(String::from_utf8(canonical_bytes(&v)).unwrap(), text);
        }
    }

    #[test]
    fn strict_parse_rejects_floats_duplicates_and_big_integers() {
        assert_eq!(
            parse_strict(br#"{"a":1.5}"#),
            Err(InputError::Float("1.5".into()))
        );
        assert!(matches!(
            parse_strict(br#"{"a":1e3}"#),
            Err(InputError::Float(_))
        ));
        assert_eq!(
            parse_strict(br#"{"a":1,"a":2}"#),
            Err(InputError::DuplicateKey("a".into()))
        );
        assert_eq!(
            parse_strict(br#"{"a":{"b":[{"c":1,"c":1}]}}"#),
            Err(InputError::DuplicateKey("c".into()))
        );
        assert!(matches!(
            parse_strict(b"[9007199254740992]"),
            Err(InputError::IntegerRange(_))
        ));
        assert!(parse_strict(b"[9007199254740991, -9007199254740991]").is_ok());
        assert!(matches!(parse_strict(b"[NaN]"), Err(InputError::Syntax(_))));
        assert!(matches!(
            parse_strict(b"{\"a\":\"\xff\"}"),
            Err(InputError::Syntax(_))
        ));
        assert!(matches!(
            parse_strict(br#"["\ud800"]"#),
            Err(InputError::Syntax(_))
        ));
        assert!(matches!(
            parse_strict(br#"{"a":1} x"#),
            Err(InputError::Syntax(_))
        ));
        let deep = "[".repeat(200) + &"]".repeat(200);
        assert_eq!(
            parse_strict(deep.as_bytes()),
            Err(InputError::TooDeep(MAX_DEPTH))
        );
    }

    #[test]
    fn strict_parse_keeps_integers_and_text() {
        let v = parse_strict(br#"{"n":-42,"s":"\u00e9","b":[true,null]}"#).unwrap();
        assert_eq!(v["n"], -42);
        assert_eq!(v["s"], "é");
    }
}
