//! JSON exactly as RFC 8259 writes it, and nothing a second parser could read differently.
//!
//! The MCP SDK behind us parses the same bytes again. Wherever two parsers may disagree, the body
//! is refused here rather than decided one way: invalid UTF-8, a byte-order mark, a key that
//! appears twice in one object (first-wins in one parser, last-wins in another), lone surrogate
//! escapes, numbers out of range, `NaN`, comments, unquoted keys, trailing data.
//!
//! [`parse_messages`] checks the whole body but keeps only what classification reads (`jsonrpc`,
//! `id`, `method`, `params.name`, `params.uri`, and whether `result`/`error` are present), so a
//! tool call's arguments cost a scan, not a tree of allocations.

use std::borrow::Cow;
use std::collections::HashSet;
use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, Error as _, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

/// Nesting deeper than this is refused (serde_json's own limit is 128).
pub const MAX_DEPTH: usize = 64;

fn check_prefix(bytes: &[u8]) -> Result<(), String> {
    if bytes.starts_with(b"\xEF\xBB\xBF") {
        return Err("the body starts with a byte-order mark".into());
    }
    std::str::from_utf8(bytes).map_err(|e| format!("the body is not UTF-8 ({e})"))?;
    Ok(())
}

fn run<'de, S: DeserializeSeed<'de, Value = Value>>(
    bytes: &'de [u8],
    seed: S,
) -> Result<Value, String> {
    check_prefix(bytes)?;
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let why = |e: serde_json::Error| format!("the body is not strict JSON ({e})");
    let v = seed.deserialize(&mut de).map_err(why)?;
    de.end().map_err(why)?;
    Ok(v)
}

/// Parses `bytes` as one strict JSON value, kept whole.
pub fn parse(bytes: &[u8]) -> Result<Value, String> {
    run(
        bytes,
        Seed {
            depth: 0,
            role: Role::Keep,
        },
    )
}

/// Parses a JSON-RPC body strictly: a message or a batch, each message reduced to the members
/// classification reads (others, and everything inside them, checked and dropped; a dropped
/// member is present as `null`).
pub fn parse_messages(bytes: &[u8]) -> Result<Value, String> {
    run(
        bytes,
        Seed {
            depth: 0,
            role: Role::Body,
        },
    )
}

/// What a value is to classification, which decides how much of it is kept.
#[derive(Clone, Copy, PartialEq)]
enum Role {
    /// Keep the value whole.
    Keep,
    /// The body: a message, or an array of messages.
    Body,
    /// A JSON-RPC message: keep `jsonrpc`, `id`, `method`, `params`; others become `null`.
    Message,
    /// `params`: keep `name` and `uri`; others become `null`.
    Params,
    /// Check it, keep nothing (`null`).
    Skip,
}

#[derive(Clone, Copy)]
struct Seed {
    depth: usize,
    role: Role,
}

impl Seed {
    fn child<E: serde::de::Error>(self, role: Role) -> Result<Seed, E> {
        if self.depth >= MAX_DEPTH {
            return Err(E::custom(format!("nested deeper than {MAX_DEPTH}")));
        }
        Ok(Seed {
            depth: self.depth + 1,
            role,
        })
    }

    fn member_role(self, key: &str) -> Role {
        match (self.role, key) {
            (Role::Keep, _) => Role::Keep,
            (Role::Message, "jsonrpc" | "id" | "method") => Role::Keep,
            (Role::Message, "params") => Role::Params,
            (Role::Params, "name" | "uri") => Role::Keep,
            _ => Role::Skip,
        }
    }

    fn element_role(self) -> Role {
        match self.role {
            Role::Keep => Role::Keep,
            Role::Body => Role::Message,
            _ => Role::Skip,
        }
    }

    fn keeps_scalars(self) -> bool {
        self.role != Role::Skip
    }
}

impl<'de> DeserializeSeed<'de> for Seed {
    type Value = Value;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

fn shown_key(k: &str) -> String {
    crate::operations::shown(k)
}

impl<'de> Visitor<'de> for Seed {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(if self.keeps_scalars() {
            Value::Bool(v)
        } else {
            Value::Null
        })
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(if self.keeps_scalars() {
            Value::from(v)
        } else {
            Value::Null
        })
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(if self.keeps_scalars() {
            Value::from(v)
        } else {
            Value::Null
        })
    }
    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Value, E> {
        // serde_json already refuses literals out of f64's range; this guards the rest.
        let n =
            serde_json::Number::from_f64(v).ok_or_else(|| E::custom("a number out of range"))?;
        Ok(if self.keeps_scalars() {
            Value::Number(n)
        } else {
            Value::Null
        })
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(if self.keeps_scalars() {
            Value::String(v.to_string())
        } else {
            Value::Null
        })
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(if self.keeps_scalars() {
            Value::String(v)
        } else {
            Value::Null
        })
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<Value, A::Error> {
        let inner = self.child(self.element_role())?;
        let keep = self.role == Role::Keep || self.role == Role::Body;
        let mut out = Vec::new();
        while let Some(v) = a.next_element_seed(inner)? {
            if keep {
                out.push(v);
            }
        }
        // A kept array that is not a batch (params as an array, say) stays an array, but empty:
        // classification only needs to see it is not an object.
        Ok(if keep || self.role != Role::Skip {
            Value::Array(out)
        } else {
            Value::Null
        })
    }
    fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Value, A::Error> {
        let role = if self.role == Role::Body {
            Role::Message
        } else {
            self.role
        };
        let this = Seed { role, ..self };
        let mut seen: HashSet<Cow<'de, str>> = HashSet::new();
        let mut out = Map::new();
        while let Some(k) = a.next_key::<KeyCow<'de>>()? {
            let k = k.0;
            let child = this.child(this.member_role(&k))?;
            if role == Role::Skip {
                a.next_value_seed(child)?;
            } else {
                let v = a.next_value_seed(child)?;
                if out.contains_key(k.as_ref()) {
                    return Err(A::Error::custom(format!(
                        "the key `{}` appears twice in one object",
                        shown_key(&k)
                    )));
                }
                out.insert(k.clone().into_owned(), v);
                continue;
            }
            if !seen.insert(k.clone()) {
                return Err(A::Error::custom(format!(
                    "the key `{}` appears twice in one object",
                    shown_key(&k)
                )));
            }
        }
        Ok(if role == Role::Skip {
            Value::Null
        } else {
            Value::Object(out)
        })
    }
}

/// An object key, borrowed from the body when it has no escapes.
struct KeyCow<'de>(Cow<'de, str>);

impl<'de> serde::Deserialize<'de> for KeyCow<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = KeyCow<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string key")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<KeyCow<'de>, E> {
                Ok(KeyCow(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<KeyCow<'de>, E> {
                Ok(KeyCow(Cow::Owned(v.to_string())))
            }
            fn visit_string<E>(self, v: String) -> Result<KeyCow<'de>, E> {
                Ok(KeyCow(Cow::Owned(v)))
            }
        }
        d.deserialize_str(V)
    }
}

#[cfg(test)]
mod tests {
    use super::{parse, parse_messages};

    const BAD: &[&[u8]] = &[
        br#"{"a":1,"a":2}"#,
        br#"{"p":{"name":"x","n\u0061me":"y"}}"#,
        br#"{"params":{"arguments":{"deep":{"b":1,"b":2}}}}"#,
        br#"{"params":{"arguments":{"deep":{"b\u0031":1,"b1":2}}}}"#,
        br#"{a:1}"#,
        br#"{"a":1} x"#,
        br#"{"a":NaN}"#,
        br#"{"a":1e400}"#,
        br#"{"params":{"arguments":{"n":-1e400}}}"#,
        br#"{"a":"\ud800"}"#,
        b"\xEF\xBB\xBF{}",
        b"{\"a\":\"\xff\"}",
        br#"{"a":1,}"#,
        br#"[1,]"#,
        br#"// c
{}"#,
        b"",
    ];

    #[test]
    fn strict() {
        assert!(parse(br#"{"a":[1,2,{"b":null}]}"#).is_ok());
        for bad in BAD {
            assert!(parse(bad).is_err(), "{}", String::from_utf8_lossy(bad));
            assert!(
                parse_messages(bad).is_err(),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
        let deep = format!("{}{}", "[".repeat(70), "]".repeat(70));
        assert!(parse(deep.as_bytes()).is_err());
        let deep = format!(
            r#"{{"params":{{"arguments":{}{}}}}}"#,
            "[".repeat(70),
            "]".repeat(70)
        );
        assert!(parse_messages(deep.as_bytes()).is_err());
    }

    #[test]
    fn keeps_what_classification_reads() {
        let v = parse_messages(
            br#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"t","arguments":{"x":[1,{"y":"z"}]}},"extra":{"a":1}}"#,
        )
        .unwrap();
        assert_eq!(
            v,
            serde_json::json!({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"t","arguments":null},"extra":null})
        );
        let v = parse_messages(
            br#"[{"jsonrpc":"2.0","id":2,"result":{"big":[1,2,3]}}, 5, {"params":[1]}]"#,
        )
        .unwrap();
        assert_eq!(
            v,
            serde_json::json!([{"jsonrpc":"2.0","id":2,"result":null}, 5, {"params":[]}])
        );
    }
}
