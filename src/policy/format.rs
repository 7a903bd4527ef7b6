//! The policy file format: `policy.meshform.dev/v1alpha1` `ValidatingPolicy`, shaped like a
//! Kubernetes ValidatingAdmissionPolicy with Kyverno's policy-level `validationActions`
//! (docs/policies.md, "The policy format").

use crate::diag::codes::Policy;
use crate::diag::{Diagnostic, Severity};
use crate::manifest::{Location, SourceText};
use crate::yaml::{self, Pos, YamlLimits};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::Arc;

/// The apiVersion of policy documents.
pub const API_VERSION: &str = "policy.meshform.dev/v1alpha1";
/// The kind of policy documents.
pub const KIND: &str = "ValidatingPolicy";

/// One policy document.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PolicyDoc {
    /// Must be [`API_VERSION`].
    pub api_version: String,
    /// Must be [`KIND`].
    pub kind: String,
    /// Name (the finding code) and annotations.
    pub metadata: Metadata,
    /// The rules.
    pub spec: Spec,
}

/// Policy metadata.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Metadata {
    /// Policy name: kebab-case, used as the finding code and SARIF ruleId.
    pub name: String,
    /// Free-form annotations; `description` and `help` are shown in reports.
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
    /// Free-form labels.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
}

/// Severity of a failed validation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum Action {
    /// An error: `check` exits 1 and `render` refuses to render.
    Deny,
    /// A warning.
    Warn,
    /// An informational finding.
    Audit,
}

/// What to do when an expression fails to evaluate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
pub enum FailurePolicy {
    /// Report the evaluation error as an error finding.
    #[default]
    Fail,
    /// Skip the object silently (logged at debug level).
    Ignore,
}

/// The policy spec.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Spec {
    /// Deny, Warn or Audit; the most severe wins. Default `[Deny]`.
    #[serde(default)]
    pub validation_actions: Vec<Action>,
    /// Fail (default) or Ignore.
    #[serde(default)]
    pub failure_policy: FailurePolicy,
    /// Which objects the policy applies to.
    pub match_constraints: MatchConstraints,
    /// CEL pre-filters, all must be true.
    #[serde(default)]
    pub match_conditions: Vec<NamedExpression>,
    /// Named values, read as `variables.<name>`.
    #[serde(default)]
    pub variables: Vec<Variable>,
    /// The checks.
    pub validations: Vec<Validation>,
}

/// `matchConstraints`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MatchConstraints {
    /// Kinds the policy applies to.
    pub resource_rules: Vec<ResourceRule>,
    /// Kinds excluded again.
    #[serde(default)]
    pub exclude_resource_rules: Vec<ResourceRule>,
    /// Labels of the object's Namespace (from the repo, or `kubernetes.io/metadata.name`).
    #[serde(default)]
    pub namespace_selector: Option<LabelSelector>,
    /// Labels of the object.
    #[serde(default)]
    pub object_selector: Option<LabelSelector>,
}

/// A resource rule: API groups, versions and plural resource names (`*` matches any).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ResourceRule {
    /// API groups (`""` is core).
    #[serde(default)]
    pub api_groups: Vec<String>,
    /// API versions.
    #[serde(default)]
    pub api_versions: Vec<String>,
    /// Lower-case plural resource names, e.g. `routetables`.
    #[serde(default)]
    pub resources: Vec<String>,
    /// Accepted for VAP compatibility; ignored (a repo has no operations).
    #[serde(default)]
    pub operations: Vec<String>,
}

/// A Kubernetes label selector.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LabelSelector {
    /// Exact labels.
    #[serde(default)]
    pub match_labels: BTreeMap<String, String>,
    /// Set-based requirements.
    #[serde(default)]
    pub match_expressions: Vec<LabelRequirement>,
}

/// One set-based label requirement.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LabelRequirement {
    /// Label key.
    pub key: String,
    /// `In`, `NotIn`, `Exists` or `DoesNotExist`.
    pub operator: SelectorOp,
    /// Values for `In` and `NotIn`.
    #[serde(default)]
    pub values: Vec<String>,
}

/// Label selector operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum SelectorOp {
    /// Label value is one of `values`.
    In,
    /// Label is absent or its value is not one of `values`.
    NotIn,
    /// Label is present.
    Exists,
    /// Label is absent.
    DoesNotExist,
}

impl LabelSelector {
    /// True when `labels` satisfy the selector.
    pub fn matches<'a>(&self, labels: impl Fn(&str) -> Option<&'a str>) -> bool {
        self.match_labels
            .iter()
            .all(|(k, v)| labels(k) == Some(v.as_str()))
            && self.match_expressions.iter().all(|r| {
                let got = labels(&r.key);
                match r.operator {
                    SelectorOp::In => got.is_some_and(|g| r.values.iter().any(|v| v == g)),
                    SelectorOp::NotIn => !got.is_some_and(|g| r.values.iter().any(|v| v == g)),
                    SelectorOp::Exists => got.is_some(),
                    SelectorOp::DoesNotExist => got.is_none(),
                }
            })
    }
}

/// A named expression (`matchConditions`).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NamedExpression {
    /// Name, for messages.
    pub name: String,
    /// CEL returning bool.
    pub expression: String,
}

/// Scope of a variable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
pub enum Scope {
    /// Evaluated for each object (default, as in VAP).
    #[default]
    Object,
    /// Evaluated once per run; may not use `object` or `namespaceObject`.
    Global,
}

/// A variable.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Variable {
    /// Read as `variables.<name>`; may use variables declared before it.
    pub name: String,
    /// CEL expression.
    pub expression: String,
    /// `Object` (default) or `Global`.
    #[serde(default)]
    pub scope: Scope,
}

/// One validation.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Validation {
    /// CEL returning `true` (pass) or `false` (one finding), or a list of violations (each a
    /// field path string or a map with `field`, `message`, `related`); empty means pass.
    pub expression: String,
    /// Fixed message.
    #[serde(default)]
    pub message: Option<String>,
    /// CEL returning the message (wins over `message`).
    #[serde(default)]
    pub message_expression: Option<String>,
    /// Kubernetes StatusReason; informational.
    #[serde(default)]
    pub reason: Option<String>,
    /// Field (serde path like `spec.hosts[0]`) a `false` result points at.
    #[serde(default)]
    pub field_path: Option<String>,
    /// Help line shown under the finding.
    #[serde(default)]
    pub help: Option<String>,
}

/// A policy document with its place.
#[derive(Debug, Clone)]
pub struct Located {
    /// The parsed policy.
    pub doc: PolicyDoc,
    /// The file it came from (`builtin:policies/<name>.yaml` for built-ins).
    pub file: Arc<str>,
    /// The file text (for positions of expressions).
    pub text: Arc<str>,
    /// Index of the document in the file.
    pub doc_index: usize,
    /// Where the document starts.
    pub pos: Pos,
}

impl Located {
    /// The location of a field of this policy, e.g. `/spec/validations/0/expression`.
    pub fn locate(&self, pointer: &str) -> Location {
        let pos = yaml::locate(&self.text, self.doc_index, pointer, &YamlLimits::default())
            .unwrap_or(self.pos);
        Location::new(self.file.clone(), pos)
    }

    /// The severity of this policy's findings.
    pub fn severity(&self) -> Severity {
        let a = &self.doc.spec.validation_actions;
        if a.is_empty() || a.contains(&Action::Deny) {
            Severity::Error
        } else if a.contains(&Action::Warn) {
            Severity::Warning
        } else {
            Severity::Info
        }
    }
}

fn broken(file: &Arc<str>, pos: Pos, msg: impl Into<String>) -> Diagnostic {
    broken_at(Location::new(file.clone(), pos), msg)
}

/// A broken-policy diagnostic at a location.
pub fn broken_at(at: Location, msg: impl Into<String>) -> Diagnostic {
    Diagnostic::error(Policy::Invalid, msg)
        .at(at)
        .help("see docs/policies.md for the ValidatingPolicy format")
}

/// Parses every policy document of a file. Documents of another kind are ignored only when
/// they are policy tests (`kind: Test`); anything else is an error naming the file and line.
pub fn parse_file(src: &SourceText) -> Result<Vec<Located>, Vec<Diagnostic>> {
    let parsed = yaml::parse_stream(&src.text, &YamlLimits::default()).map_err(|e| {
        vec![broken(
            &src.path,
            e.pos,
            format!("policy file: {}", e.message),
        )]
    })?;
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for d in parsed.documents {
        let api = d.value["apiVersion"].as_str().unwrap_or_default();
        let kind = d.value["kind"].as_str().unwrap_or_default();
        if api != API_VERSION || kind != KIND {
            errors.push(broken(
                &src.path,
                d.pos,
                format!(
                    "expected apiVersion {API_VERSION} and kind {KIND}, found {api:?} {kind:?}"
                ),
            ));
            continue;
        }
        match serde_path_to_error::deserialize::<_, PolicyDoc>(&d.value) {
            Ok(doc) => {
                let l = Located {
                    doc,
                    file: src.path.clone(),
                    text: src.text.clone(),
                    doc_index: d.index,
                    pos: d.pos,
                };
                if let Err(e) = validate_doc(&l) {
                    errors.push(*e);
                } else {
                    out.push(l);
                }
            }
            Err(e) => {
                let path = e.path().to_string();
                let pointer = crate::manifest::field_to_pointer(&path);
                let pos = yaml::locate(&src.text, d.index, &pointer, &YamlLimits::default())
                    .unwrap_or(d.pos);
                errors.push(broken(&src.path, pos, format!("{path}: {}", e.inner())));
            }
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

fn validate_doc(l: &Located) -> Result<(), Box<Diagnostic>> {
    let name = &l.doc.metadata.name;
    let ok = !name.is_empty()
        && name.len() <= 100
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !name.starts_with('-');
    if !ok {
        return Err(Box::new(broken_at(
            l.locate("/metadata/name"),
            format!("policy name {name:?} must be kebab-case (a-z, 0-9, -)"),
        )));
    }
    if l.doc.spec.match_constraints.resource_rules.is_empty() {
        return Err(Box::new(broken_at(
            l.locate("/spec/matchConstraints"),
            "matchConstraints.resourceRules must list at least one rule",
        )));
    }
    if l.doc.spec.validations.is_empty() {
        return Err(Box::new(broken_at(
            l.locate("/spec"),
            "a policy needs at least one validation",
        )));
    }
    let mut seen = std::collections::BTreeSet::new();
    for (i, v) in l.doc.spec.variables.iter().enumerate() {
        let valid = v
            .name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_')
            && v.name
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic());
        if !valid || !seen.insert(v.name.clone()) {
            return Err(Box::new(broken_at(
                l.locate(&format!("/spec/variables/{i}/name")),
                format!(
                    "variable name {:?} must be a unique identifier (letters, digits, _)",
                    v.name
                ),
            )));
        }
    }
    Ok(())
}
