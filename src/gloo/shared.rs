//! Findings the translator shares with built-in policies.
//!
//! Some problems stop the translator and break a built-in policy alike: a broken destination
//! reference, weights that do not add up, an ExternalService behind a TCP route. For each of
//! them the translator gives the policy's own finding (code, message, place, help, related
//! places), so that a run reports the problem once: `diag::normalize` keeps one of two equal
//! findings. When the policy is exempted on the object, the translator's finding remains, since
//! the route is still replaced (docs/policies.md, "Built-in policies and the translator").

use crate::diag::{Code, Diagnostic, Severity};
use crate::repo::Repo;

/// A built-in policy whose findings the translator also gives: its name, the severity of its
/// `validationActions` and its `help` annotation (a test holds them equal to the policy files).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shared {
    /// The policy's name, the code of its findings.
    pub name: &'static str,
    /// Error for `Deny`, warning for `Warn`.
    pub severity: Severity,
    /// The policy's `help` annotation.
    pub help: &'static str,
}

/// `policies/routetable-references-visible.yaml`.
pub const REFERENCES_VISIBLE: Shared = Shared {
    name: "routetable-references-visible",
    severity: Severity::Error,
    help: "fix the reference, or export the object from its workspace and import it into this one (WorkspaceSettings exportTo/importFrom)",
};

/// `policies/routetable-service-exists.yaml`.
pub const SERVICE_EXISTS: Shared = Shared {
    name: "routetable-service-exists",
    severity: Severity::Warning,
    help: "check the Service name and namespace, or exempt the RouteTable if the Service lives elsewhere",
};

/// `policies/routetable-weights.yaml`.
pub const WEIGHTS: Shared = Shared {
    name: "routetable-weights",
    severity: Severity::Error,
    help: "make the weights sum to 100, or leave room for the destinations without a weight",
};

/// `policies/routetable-tcp-destinations.yaml`.
pub const TCP_DESTINATIONS: Shared = Shared {
    name: "routetable-tcp-destinations",
    severity: Severity::Error,
    help: "route to a Service or a VirtualDestination, or use an http or tls route",
};

/// Every policy above.
pub const ALL: [Shared; 4] = [
    REFERENCES_VISIBLE,
    SERVICE_EXISTS,
    WEIGHTS,
    TCP_DESTINATIONS,
];

/// One finding of a shared policy on one object, before it is placed: the field, the message
/// and the other objects involved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The policy that reports it.
    pub policy: Shared,
    /// Serde path of the offending field.
    pub field: String,
    /// What is wrong.
    pub message: String,
    /// (object index, field, note) of the other places.
    pub related: Vec<(usize, String, String)>,
}

impl Problem {
    /// A problem without other places.
    pub fn new(policy: Shared, field: String, message: String) -> Problem {
        Problem {
            policy,
            field,
            message,
            related: Vec::new(),
        }
    }

    /// The finding on repo object `object`, placed as the policy engine places a policy's
    /// violation: at the field's line, the related places at theirs.
    pub fn diagnostic(&self, repo: &Repo, object: usize) -> Diagnostic {
        let o = &repo.objects[object];
        let mut d = Diagnostic::new(
            self.policy.severity,
            Code::policy(self.policy.name),
            self.message.clone(),
        )
        .on(o.id.clone())
        .help(self.policy.help);
        d = if self.field.is_empty() {
            d.at(o.location.clone())
        } else {
            d.at(repo.locate(o, &self.field)).field(self.field.clone())
        };
        for (i, field, note) in &self.related {
            let r = &repo.objects[*i];
            d = d.related(repo.locate(r, field), note.clone());
        }
        d
    }
}

/// What `routetable-weights` says of a route's destination weights
/// (docs/translation.md#routetable-rules, as the policy counts them: a weight of 0 is no weight),
/// `None` when it passes. `at` is the route's `forwardTo.destinations`.
pub fn weights(weights: &[Option<u32>], at: &str) -> Option<Problem> {
    let weighted = weights.iter().filter(|w| w.is_some_and(|w| w > 0)).count();
    let unweighted = weights.len() - weighted;
    let sum: u64 = weights.iter().map(|w| u64::from(w.unwrap_or(0))).sum();
    if weights.len() < 2 || weighted == 0 {
        return None;
    }
    let message = if sum > 100 {
        format!("destination weights sum to {sum}, over 100")
    } else if unweighted > 0 && 100 - sum < unweighted as u64 {
        format!(
            "destination weights sum to {sum}, leaving less than 1 for each of the {} without a weight",
            crate::diag::count(unweighted, "destination", "destinations")
        )
    } else if unweighted == 0 && sum != 100 {
        format!("destination weights sum to {sum}; they must sum to 100")
    } else {
        return None;
    };
    Some(Problem::new(WEIGHTS, at.to_string(), message))
}

/// What `routetable-tcp-destinations` says of an ExternalService destination of a TCP route;
/// `at` is the destination's `kind`.
pub fn tcp_external_service(at: &str) -> Problem {
    Problem::new(
        TCP_DESTINATIONS,
        at.to_string(),
        "TCP routes support only Kubernetes Service and VirtualDestination destinations, not EXTERNAL_SERVICE.".into(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_as_the_policy_counts_them() {
        let at = "spec.http[0].forwardTo.destinations";
        let message = |ws: &[Option<u32>]| weights(ws, at).map(|p| p.message);
        assert_eq!(message(&[Some(70), Some(30)]), None);
        assert_eq!(message(&[Some(50), None, None]), None);
        assert_eq!(message(&[None, None]), None);
        assert_eq!(message(&[Some(120)]), None);
        // Weight 0 is no weight, and all-0 weights are no weights.
        assert_eq!(message(&[Some(0), Some(0)]), None);
        assert_eq!(message(&[Some(70), Some(0)]), None);
        assert_eq!(
            message(&[Some(70), Some(50)]).as_deref(),
            Some("destination weights sum to 120, over 100")
        );
        assert_eq!(
            message(&[Some(20), Some(30)]).as_deref(),
            Some("destination weights sum to 50; they must sum to 100")
        );
        assert_eq!(
            message(&[Some(99), None, None]).as_deref(),
            Some("destination weights sum to 99, leaving less than 1 for each of the 2 destinations without a weight")
        );
        assert_eq!(
            message(&[Some(100), None]).as_deref(),
            Some("destination weights sum to 100, leaving less than 1 for each of the 1 destination without a weight")
        );
    }
}
