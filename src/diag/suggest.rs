//! "Did you mean" for names: the nearest of the names meshform knows to one it does not.

/// The name in `names` nearest to `wrong`, ignoring case, if one is near enough to be a typo
/// (Jaro-Winkler similarity 0.8 or more); computed only when a finding is reported.
pub fn nearest<'a>(wrong: &str, names: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let lower = wrong.to_ascii_lowercase();
    names
        .into_iter()
        .map(|n| (strsim::jaro_winkler(&lower, &n.to_ascii_lowercase()), n))
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, n)| n)
}
