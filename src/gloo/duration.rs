//! Durations as Gloo's protos take them (`google.protobuf.Duration` written as a Go duration:
//! `1m`, `1.5h`, `1s500ms`) and as Istio's objects are written (protojson seconds: `60s`,
//! `0.500s`). docs/translation.md#policies has the conversion.

use serde::{de, Deserialize, Deserializer, Serialize, Serializer};
use std::borrow::Cow;

/// Parses a Go duration (`time.ParseDuration`) into nanoseconds; `None` when it is not one
/// or does not fit an `i64`.
pub fn nanos(s: &str) -> Option<i128> {
    let (neg, mut rest) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if rest == "0" {
        return Some(0);
    }
    if rest.is_empty() {
        return None;
    }
    let mut total: f64 = 0.0;
    let mut exact: i128 = 0;
    let mut all_exact = true;
    while !rest.is_empty() {
        let num_end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let num = &rest[..num_end];
        if num.is_empty() || num == "." || num.matches('.').count() > 1 {
            return None;
        }
        rest = &rest[num_end..];
        let unit_end = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let unit = &rest[..unit_end];
        rest = &rest[unit_end..];
        let scale: i128 = match unit {
            "ns" => 1,
            "us" | "µs" | "μs" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            _ => return None,
        };
        let v: f64 = num.parse().ok()?;
        total += v * scale as f64;
        if !num.contains('.') {
            let n: i128 = num.parse().ok()?;
            exact = exact.checked_add(n.checked_mul(scale)?)?;
        } else {
            all_exact = false;
        }
    }
    let nanos = if all_exact {
        exact
    } else {
        total.round() as i128
    };
    if nanos > i64::MAX as i128 {
        return None;
    }
    Some(if neg { -nanos } else { nanos })
}

/// Nanoseconds as protojson writes a Duration: seconds with 0, 3, 6 or 9 fractional digits
/// (`60s`, `0.500s`, `1.000001s`), the form Istio's objects carry.
pub fn protojson(nanos: i128) -> String {
    let sign = if nanos < 0 { "-" } else { "" };
    let n = nanos.unsigned_abs();
    let (secs, frac) = (n / 1_000_000_000, n % 1_000_000_000);
    if frac == 0 {
        format!("{sign}{secs}s")
    } else if frac % 1_000_000 == 0 {
        format!("{sign}{secs}.{:03}s", frac / 1_000_000)
    } else if frac % 1_000 == 0 {
        format!("{sign}{secs}.{:06}s", frac / 1_000)
    } else {
        format!("{sign}{secs}.{frac:09}s")
    }
}

/// A duration field of a Gloo object: the text as written and its value. Typing rejects text
/// that is not a Go duration, at the field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Duration {
    /// As written (`1m`).
    pub text: Box<str>,
    /// Nanoseconds.
    pub nanos: i128,
}

impl Duration {
    /// As Istio's objects write it (`60s`).
    pub fn istio(&self) -> String {
        protojson(self.nanos)
    }

    /// Gloo's CEL rule on its route policies' durations (2.6): at least 1ms, in whole
    /// milliseconds, without the `ns` and `us` units.
    pub fn gloo_ms_rule(&self) -> Result<(), &'static str> {
        if self.text.contains("ns")
            || self.text.contains("us")
            || self.text.contains('µ')
            || self.text.contains('μ')
        {
            return Err("Gloo does not take the ns and us units");
        }
        if self.nanos < 1_000_000 {
            return Err("Gloo takes at least 1ms");
        }
        if self.nanos % 1_000_000 != 0 {
            return Err("Gloo takes whole milliseconds");
        }
        Ok(())
    }
}

impl<'de> Deserialize<'de> for Duration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        match nanos(&text) {
            Some(n) => Ok(Duration {
                text: text.into(),
                nanos: n,
            }),
            None => Err(de::Error::custom(format!(
                "invalid duration `{text}`: write a number with a unit (ms, s, m, h), such as `1.5s` or `500ms`"
            ))),
        }
    }
}

impl Serialize for Duration {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

impl schemars::JsonSchema for Duration {
    fn schema_name() -> Cow<'static, str> {
        "Duration".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({"type": "string", "format": "duration"})
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_durations_parse() {
        assert_eq!(nanos("1.5s"), Some(1_500_000_000));
        assert_eq!(nanos("1h2m"), Some(3_720_000_000_000));
        assert_eq!(nanos("1s500ms"), Some(1_500_000_000));
        assert_eq!(nanos("0"), Some(0));
        assert_eq!(nanos("5"), None);
        assert_eq!(nanos("1x"), None);
        assert_eq!(nanos(""), None);
    }

    #[test]
    fn protojson_writes_seconds_with_0_3_6_or_9_digits() {
        let d = |s: &str| protojson(nanos(s).unwrap());
        assert_eq!(d("1m"), "60s");
        assert_eq!(d("0.5s"), "0.500s");
        assert_eq!(d("1.5h"), "5400s");
        assert_eq!(d("1s1us"), "1.000001s");
        assert_eq!(d("1ns"), "0.000000001s");
        assert_eq!(d("2s"), "2s");
    }

    #[test]
    fn gloo_takes_whole_milliseconds_from_1ms() {
        let t = |s: &str| {
            serde_json::from_value::<Duration>(serde_json::json!(s))
                .unwrap()
                .gloo_ms_rule()
        };
        assert!(t("1ms").is_ok());
        assert!(t("1.5s").is_ok());
        assert!(t("500us").is_err());
        assert!(t("1500us").is_err());
        assert!(t("0s").is_err());
        assert!(t("1.0005s").is_err());
        let bad = serde_json::from_value::<Duration>(serde_json::json!("10 s")).unwrap_err();
        assert!(bad.to_string().contains("invalid duration `10 s`"), "{bad}");
    }
}
