//! Two normalized dumps compared as sets of statements (pg_dump breaks ties between
//! same-named objects by OID, so creation order may reorder equal statements), reported as
//! one readable line per difference.

use std::collections::BTreeMap;

/// What identifies a statement's object: its leading words, up to a `(`, ` AS ` or ` IS `
/// (where definitions and comment texts begin), at most seven words.
fn key(statement: &str) -> String {
    let mut end = statement.len();
    for stop in ["(", " AS ", " IS "] {
        if let Some(i) = statement.find(stop) {
            end = end.min(i);
        }
    }
    statement[..end]
        .split_whitespace()
        .take(7)
        .collect::<Vec<_>>()
        .join(" ")
}

fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let cut: String = text.chars().take(max).collect();
    format!("{cut}…")
}

/// The two texts around their first difference.
fn around_difference(a: &str, b: &str) -> (String, String) {
    let common = a
        .char_indices()
        .zip(b.chars())
        .find(|((_, x), y)| x != y)
        .map_or(a.len().min(b.len()), |((i, _), _)| i);
    let start = a[..common]
        .char_indices()
        .rev()
        .nth(40)
        .map_or(0, |(i, _)| i);
    let lead = if start > 0 { "…" } else { "" };
    (
        format!("{lead}{}", shorten(&a[start..], 100)),
        format!("{lead}{}", shorten(&b[start..], 100)),
    )
}

/// One line per statement one side has and the other lacks; a changed statement (same
/// object, other definition) is one line showing both around the first difference.
pub fn diff(left: &[String], right: &[String], left_label: &str, right_label: &str) -> Vec<String> {
    let mut count: BTreeMap<&str, i64> = BTreeMap::new();
    for s in left {
        *count.entry(s).or_default() += 1;
    }
    for s in right {
        *count.entry(s).or_default() -= 1;
    }
    let mut only_left: Vec<&str> = Vec::new();
    let mut only_right: Vec<&str> = Vec::new();
    // Keep dump order, so lines come out as the objects appear.
    for s in left {
        if let Some(n) = count.get_mut(s.as_str()).filter(|n| **n > 0) {
            *n -= 1;
            only_left.push(s);
        }
    }
    for s in right {
        if let Some(n) = count.get_mut(s.as_str()).filter(|n| **n < 0) {
            *n += 1;
            only_right.push(s);
        }
    }
    let mut lines = Vec::new();
    for l in only_left {
        let k = key(l);
        if let Some(i) = only_right.iter().position(|r| key(r) == k) {
            let r = only_right.remove(i);
            let (a, b) = around_difference(l, r);
            lines.push(format!(
                "{k} differs: {left_label} has `{a}`, {right_label} has `{b}`"
            ));
        } else {
            lines.push(format!("only {left_label} has `{}`", shorten(l, 160)));
        }
    }
    for r in only_right {
        lines.push(format!("only {right_label} has `{}`", shorten(r, 160)));
    }
    lines
}
