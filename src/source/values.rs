//! Template values files (`--values`, the Argo CD `values` parameter): YAML or JSON mappings,
//! several documents merged in order, over `clusters[].values`.

use crate::config::Limits;
use crate::yaml::YamlError;
use serde_json::{Map, Value};
use std::io::Read;
use std::path::Path;

/// Why a values file was not read.
#[derive(Debug, thiserror::Error)]
pub enum ValuesError {
    /// It cannot be opened or read.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// It is larger than `limits.fileSize`.
    #[error("over limits.fileSize ({0} bytes)")]
    TooLarge(u64),
    /// It is not UTF-8 text.
    #[error("not UTF-8")]
    NotUtf8,
    /// It is not valid YAML.
    #[error("{}:{}: {}", .0.pos.line, .0.pos.column, .0.message)]
    Yaml(YamlError),
    /// A document is not a mapping.
    #[error("document at line {line} is not a mapping")]
    NotMapping {
        /// The document's first line.
        line: u32,
    },
}

/// Reads a values file, at most `limits.fileSize` bytes, and merges its documents deeply into
/// `into`, in order.
pub fn read_values_file(
    path: &Path,
    limits: &Limits,
    into: &mut Map<String, Value>,
) -> Result<(), ValuesError> {
    let mut data = Vec::new();
    std::fs::File::open(path)?
        .take(limits.file_size + 1)
        .read_to_end(&mut data)?;
    if data.len() as u64 > limits.file_size {
        return Err(ValuesError::TooLarge(limits.file_size));
    }
    let text = String::from_utf8(data).map_err(|_| ValuesError::NotUtf8)?;
    let parsed = crate::yaml::parse_stream(&text, &limits.yaml()).map_err(ValuesError::Yaml)?;
    for d in parsed.documents {
        match d.value.to_json() {
            Value::Object(m) => super::template::merge(into, &m),
            _ => return Err(ValuesError::NotMapping { line: d.pos.line }),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_merge_in_order_and_limits_hold() {
        let d = tempfile::tempdir().unwrap();
        let f = d.path().join("v.yaml");
        std::fs::write(&f, "a: {b: 1, c: 2}\n---\na: {c: 3}\n").unwrap();
        let mut v = Map::new();
        read_values_file(&f, &Limits::default(), &mut v).unwrap();
        assert_eq!(Value::Object(v), serde_json::json!({"a": {"b": 1, "c": 3}}));

        let small = Limits {
            file_size: 4,
            ..Limits::default()
        };
        let e = read_values_file(&f, &small, &mut Map::new()).unwrap_err();
        assert!(matches!(e, ValuesError::TooLarge(4)), "{e}");

        std::fs::write(&f, "a: 1\n---\n- x\n").unwrap();
        let e = read_values_file(&f, &Limits::default(), &mut Map::new()).unwrap_err();
        assert_eq!(e.to_string(), "document at line 3 is not a mapping");

        let e = read_values_file(&d.path().join("none"), &Limits::default(), &mut Map::new())
            .unwrap_err();
        assert!(
            matches!(&e, ValuesError::Io(io) if io.kind() == std::io::ErrorKind::NotFound),
            "{e}"
        );
    }
}
