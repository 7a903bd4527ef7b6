//! Output made fit for insta snapshots.

/// Replaces commit ids (40 hex digits, and 7 in parentheses as `meshform diff` prints them)
/// by `<commit>`: they depend on git's object format, the snapshots must not.
pub fn redact(s: &str) -> String {
    let full = regex::Regex::new(r"[0-9a-f]{40}").expect("regex");
    let short = regex::Regex::new(r"\(([0-9a-f]{7})\)").expect("regex");
    let s = full.replace_all(s, "<commit>");
    short.replace_all(&s, "(<commit>)").into_owned()
}
