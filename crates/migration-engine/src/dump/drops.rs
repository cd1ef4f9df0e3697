//! The DROP statements that undo a pg_dump script: pg_dump prints every object after what it
//! depends on, so undoing its statements in reverse order drops dependents first. Objects
//! that live inside a table (indexes, triggers, rules, policies, check constraints, owned
//! sequences) go with it; foreign keys are dropped first, since tables are printed by name,
//! not by reference.

use super::lex::{split, Piece, Token, TokenKind};

/// A qualified name starting at `tokens[i]`: words and quoted identifiers joined by `.`.
fn name_at(tokens: &[&Token], i: usize) -> Option<(String, usize)> {
    let mut text = String::new();
    let mut j = i;
    loop {
        let t = tokens.get(j)?;
        if !matches!(t.kind, TokenKind::Word | TokenKind::QuotedIdent) {
            return None;
        }
        text.push_str(t.text);
        j += 1;
        match tokens.get(j) {
            Some(dot) if dot.is_punct('.') => {
                text.push('.');
                j += 1;
            }
            _ => return Some((text, j)),
        }
    }
}

/// The text of the parenthesized group opening at `tokens[i]` (without the parentheses),
/// split at its top-level commas, each part as written (tokens joined with single spaces).
fn group_at(tokens: &[&Token], i: usize) -> Option<(Vec<Vec<String>>, usize)> {
    if !tokens.get(i)?.is_punct('(') {
        return None;
    }
    let (mut depth, mut parts, mut part) = (0usize, Vec::new(), Vec::new());
    for (j, t) in tokens.iter().enumerate().skip(i) {
        if t.is_punct('(') {
            depth += 1;
            if depth == 1 {
                continue;
            }
        } else if t.is_punct(')') {
            depth -= 1;
            if depth == 0 {
                if !part.is_empty() {
                    parts.push(part);
                }
                return Some((parts, j + 1));
            }
        } else if t.is_punct(',') && depth == 1 {
            parts.push(std::mem::take(&mut part));
            continue;
        }
        part.push(t.text.to_owned());
    }
    None
}

/// A routine's parameters as DROP FUNCTION takes them: without their defaults.
fn identity_arguments(parts: &[Vec<String>]) -> String {
    parts
        .iter()
        .map(|p| {
            let end = p
                .iter()
                .position(|w| w.eq_ignore_ascii_case("DEFAULT") || w == "=")
                .unwrap_or(p.len());
            join_tokens(&p[..end])
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Tokens joined with a space between words, none around punctuation that glues
/// (`.`, `(`, `)`, `[`, `]`).
fn join_tokens(tokens: &[String]) -> String {
    let mut out = String::new();
    let glue = |s: &str| matches!(s, "." | "(" | ")" | "[" | "]");
    for (i, t) in tokens.iter().enumerate() {
        if i > 0 && !glue(t) && !glue(&tokens[i - 1]) {
            out.push(' ');
        }
        out.push_str(t);
    }
    out
}

/// What undoing one statement takes, if anything of its own.
enum Undo {
    Drop(String),
    /// `ALTER SEQUENCE s OWNED BY ...`: s goes with its table.
    Owned(String),
    Nothing,
}

fn undo(tokens: &[&Token]) -> Undo {
    let w = |i: usize, word: &str| tokens.get(i).is_some_and(|t| t.is_word(word));
    let simple = |at: usize, what: &str| {
        name_at(tokens, at).map_or(Undo::Nothing, |(n, _)| {
            Undo::Drop(format!("DROP {what} {n};"))
        })
    };
    if w(0, "ALTER") && w(1, "SEQUENCE") {
        let Some((name, next)) = name_at(tokens, 2) else {
            return Undo::Nothing;
        };
        return if w(next, "OWNED") {
            Undo::Owned(name)
        } else {
            Undo::Nothing
        };
    }
    if w(0, "ALTER") && w(1, "TABLE") {
        let at = if w(2, "ONLY") { 3 } else { 2 };
        let Some((table, next)) = name_at(tokens, at) else {
            return Undo::Nothing;
        };
        if w(next, "ADD") && w(next + 1, "CONSTRAINT") {
            if let Some((constraint, after)) = name_at(tokens, next + 2) {
                if w(after, "FOREIGN") {
                    return Undo::Drop(format!(
                        "ALTER TABLE {table} DROP CONSTRAINT {constraint};"
                    ));
                }
            }
        }
        return Undo::Nothing;
    }
    if !w(0, "CREATE") {
        return Undo::Nothing;
    }
    let mut i = 1;
    if w(1, "OR") && w(2, "REPLACE") {
        i = 3;
    }
    match tokens
        .get(i)
        .map(|t| t.text.to_ascii_uppercase())
        .as_deref()
    {
        Some("EXTENSION") => simple(if w(i + 1, "IF") { i + 4 } else { i + 1 }, "EXTENSION"),
        Some("SCHEMA") => simple(i + 1, "SCHEMA"),
        Some("TYPE") => simple(i + 1, "TYPE"),
        Some("DOMAIN") => simple(i + 1, "DOMAIN"),
        Some("COLLATION") => simple(i + 1, "COLLATION"),
        Some("STATISTICS") => simple(i + 1, "STATISTICS"),
        Some("SEQUENCE") => simple(i + 1, "SEQUENCE"),
        Some("TABLE") => simple(i + 1, "TABLE"),
        Some("UNLOGGED") if w(i + 1, "TABLE") => simple(i + 2, "TABLE"),
        Some("FOREIGN") if w(i + 1, "TABLE") => simple(i + 2, "FOREIGN TABLE"),
        Some("VIEW") => simple(i + 1, "VIEW"),
        Some("RECURSIVE") if w(i + 1, "VIEW") => simple(i + 2, "VIEW"),
        Some("MATERIALIZED") if w(i + 1, "VIEW") => simple(i + 2, "MATERIALIZED VIEW"),
        Some("EVENT") if w(i + 1, "TRIGGER") => simple(i + 2, "EVENT TRIGGER"),
        Some("PUBLICATION") => simple(i + 1, "PUBLICATION"),
        Some("TEXT") if w(i + 1, "SEARCH") => {
            let kind = tokens
                .get(i + 2)
                .map_or("", |t| t.text)
                .to_ascii_uppercase();
            simple(i + 3, &format!("TEXT SEARCH {kind}"))
        }
        Some(kind @ ("FUNCTION" | "PROCEDURE" | "AGGREGATE")) => {
            let Some((name, next)) = name_at(tokens, i + 1) else {
                return Undo::Nothing;
            };
            let Some((parts, _)) = group_at(tokens, next) else {
                return Undo::Nothing;
            };
            let args = if kind == "AGGREGATE" {
                parts
                    .iter()
                    .map(|p| join_tokens(p))
                    .collect::<Vec<_>>()
                    .join(", ")
            } else {
                identity_arguments(&parts)
            };
            Undo::Drop(format!("DROP {kind} {name}({args});"))
        }
        Some("CAST") => match group_at(tokens, i + 1) {
            Some((parts, _)) if parts.len() == 1 => {
                Undo::Drop(format!("DROP CAST ({});", join_tokens(&parts[0])))
            }
            _ => Undo::Nothing,
        },
        _ => Undo::Nothing,
    }
}

/// The statements that drop everything `statements` (a cleaned pg_dump script, in its
/// order) create, dependents first.
pub fn drop_statements(statements: &[String]) -> Vec<String> {
    let undos: Vec<Undo> = statements
        .iter()
        .flat_map(|s| {
            split(s).into_iter().filter_map(|p| match p {
                Piece::Statement(st) => {
                    let tokens: Vec<&Token> = st.significant().collect();
                    Some(undo(&tokens))
                }
                _ => None,
            })
        })
        .collect();
    let owned: Vec<String> = undos
        .iter()
        .filter_map(|u| match u {
            Undo::Owned(n) => Some(format!("DROP SEQUENCE {n};")),
            _ => None,
        })
        .collect();
    let mut drops: Vec<String> = Vec::new();
    for u in undos.into_iter().rev() {
        if let Undo::Drop(d) = u {
            // An owned sequence goes with its table; a view printed twice (a dependency
            // loop pg_dump breaks with CREATE OR REPLACE) is dropped once.
            if !owned.contains(&d) && !drops.contains(&d) {
                drops.push(d);
            }
        }
    }
    drops
}
