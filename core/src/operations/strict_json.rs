//! JSON exactly as RFC 8259 writes it, and nothing a second parser could read differently.
//!
//! The MCP SDK behind us parses the same bytes again. Wherever two parsers may disagree, the body
//! is refused here rather than decided one way: invalid UTF-8, a byte-order mark, a key that
//! appears twice in one object (first-wins in one parser, last-wins in another), lone surrogate
//! escapes, numbers out of range, `NaN`, comments, unquoted keys, trailing data.

use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

/// Nesting deeper than this is refused (serde_json's own limit is 128).
pub const MAX_DEPTH: usize = 64;

/// Parses `bytes` as one strict JSON value; the error says why in plain words.
pub fn parse(bytes: &[u8]) -> Result<Value, String> {
    if bytes.starts_with(b"\xEF\xBB\xBF") {
        return Err("the body starts with a byte-order mark".into());
    }
    std::str::from_utf8(bytes).map_err(|e| format!("the body is not UTF-8 ({e})"))?;
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let v = Strict { depth: 0 }
        .deserialize(&mut de)
        .map_err(|e| format!("the body is not strict JSON ({e})"))?;
    de.end()
        .map_err(|e| format!("the body is not strict JSON ({e})"))?;
    Ok(v)
}

#[derive(Clone, Copy)]
struct Strict {
    depth: usize,
}

impl Strict {
    fn deeper<E: serde::de::Error>(self) -> Result<Strict, E> {
        if self.depth >= MAX_DEPTH {
            return Err(E::custom(format!("nested deeper than {MAX_DEPTH}")));
        }
        Ok(Strict {
            depth: self.depth + 1,
        })
    }
}

impl<'de> DeserializeSeed<'de> for Strict {
    type Value = Value;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Strict {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Value, E> {
        serde_json::Number::from_f64(v)
            .map(Value::Number)
            .ok_or_else(|| E::custom("a number out of range"))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<Value, A::Error> {
        let inner = self.deeper()?;
        let mut out = Vec::new();
        while let Some(v) = a.next_element_seed(inner)? {
            out.push(v);
        }
        Ok(Value::Array(out))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Value, A::Error> {
        let inner = self.deeper()?;
        let mut out = Map::new();
        while let Some(k) = a.next_key::<String>()? {
            if out.contains_key(&k) {
                return Err(serde::de::Error::custom(format!(
                    "the key `{}` appears twice in one object",
                    crate::operations::shown(&k)
                )));
            }
            let v = a.next_value_seed(inner)?;
            out.insert(k, v);
        }
        Ok(Value::Object(out))
    }
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn strict() {
        assert!(parse(br#"{"a":[1,2,{"b":null}]}"#).is_ok());
        for bad in [
            &br#"{"a":1,"a":2}"#[..],
            br#"{"p":{"name":"x","n\u0061me":"y"}}"#,
            br#"{a:1}"#,
            br#"{"a":1} x"#,
            br#"{"a":NaN}"#,
            br#"{"a":1e400}"#,
            br#"{"a":"\ud800"}"#,
            b"\xEF\xBB\xBF{}",
            b"{\"a\":\"\xff\"}",
            br#"{"a":1,}"#,
            br#"// c
{}"#,
            b"",
        ] {
            assert!(parse(bad).is_err(), "{}", String::from_utf8_lossy(bad));
        }
        let deep = format!("{}{}", "[".repeat(70), "]".repeat(70));
        assert!(parse(deep.as_bytes()).is_err());
    }
}
