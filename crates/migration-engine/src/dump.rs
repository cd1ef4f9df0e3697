//! Schema dumps made comparable and replayable: a pg_dump script split into statements by a
//! lexer (never by line prefixes: `SET`, `--`, `\` and `public.` also occur inside function
//! bodies and string literals), cleaned into a baseline any diesel connection can run, or
//! normalized into the statement list a proof compares; and the dumps themselves, of a
//! PostgreSQL database (pg_dump) or a SQLite one (its catalog), holding everything the
//! database has except diesel's and this project's bookkeeping.

mod database;
mod diff;
mod drops;
pub mod lex;

pub use database::{check_pg_dump, pg_dump, pg_schema, sqlite_schema, whole_schema, DumpError};
pub use diff::diff;
pub use drops::drop_statements;
pub use lex::{split, Piece, Statement, Token, TokenKind};

/// A statement that only sets up pg_dump's session (`SET ...`, `SELECT
/// pg_catalog.set_config(...)`), creating nothing.
pub fn is_session_setting(s: &Statement) -> bool {
    if s.starts_with_words(&["SET"]) {
        return true;
    }
    let t: Vec<&Token> = s.significant().take(5).collect();
    t.len() == 5
        && t[0].is_word("SELECT")
        && t[1].is_word("pg_catalog")
        && t[2].is_punct('.')
        && t[3].is_word("set_config")
        && t[4].is_punct('(')
}

/// `public` or `"public"` used as a qualifier: directly followed by `.`, and not itself
/// the second part of a qualified name.
fn is_public_qualifier(tokens: &[Token], i: usize) -> bool {
    let t = tokens[i];
    let public = t.is_word("public") || t.kind == TokenKind::QuotedIdent && t.text == "\"public\"";
    public
        && tokens.get(i + 1).is_some_and(|n| n.is_punct('.'))
        && (i == 0 || !tokens[i - 1].is_punct('.'))
}

/// The tokens of `s` without its `public.` qualifiers (outside literals and bodies, which
/// are single tokens and so untouched).
fn unqualified<'a>(s: &Statement<'a>) -> Vec<Token<'a>> {
    let mut out = Vec::with_capacity(s.tokens.len());
    let mut i = 0;
    while i < s.tokens.len() {
        if is_public_qualifier(&s.tokens, i) {
            i += 2;
            continue;
        }
        out.push(s.tokens[i]);
        i += 1;
    }
    out
}

/// The statements of a dump a baseline keeps, each as written (minus `public.` qualifiers)
/// and ending with `;`: session settings, meta-commands and comments between statements
/// go; function bodies, their `SET search_path` clauses and `COMMENT ON` stay.
pub fn baseline_statements(dump: &str) -> Vec<String> {
    split(dump)
        .into_iter()
        .filter_map(|p| match p {
            Piece::Statement(s) if !is_session_setting(&s) => {
                let mut text: String = unqualified(&s).iter().map(|t| t.text).collect();
                if !s.terminated {
                    text.push(';');
                }
                Some(text)
            }
            _ => None,
        })
        .collect()
}

/// A pg_dump script as a baseline's up.sql: see [`baseline_statements`].
pub fn clean_for_baseline(dump: &str) -> String {
    let mut out = String::new();
    for s in baseline_statements(dump) {
        out.push_str(&s);
        out.push_str("\n\n");
    }
    out
}

/// One statement on one line: whitespace (and comments, unless `keep_comments`) outside
/// literals become one space, the final `;` goes.
fn one_line(tokens: &[Token], keep_comments: bool) -> String {
    let last = tokens.iter().rposition(Token::is_significant);
    let mut out = String::new();
    let mut space = false;
    for (i, t) in tokens.iter().enumerate() {
        if t.kind == TokenKind::Space || !keep_comments && !t.is_significant() {
            space = true;
            continue;
        }
        if Some(i) == last && t.is_punct(';') {
            continue;
        }
        if space && !out.is_empty() {
            out.push(' ');
        }
        space = false;
        out.push_str(t.text);
    }
    out
}

/// `sql` (a catalog entry, say) with every run of whitespace outside literals and comments
/// made one space, comments kept: what SQLite stores, laid out the same way.
pub fn normalize_sql(sql: &str) -> String {
    split(sql)
        .into_iter()
        .map(|p| match p {
            Piece::Statement(s) => one_line(&s.tokens, true),
            Piece::Meta(t) | Piece::Comment(t) => t.to_owned(),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The statements of a dump a proof compares, in the order pg_dump printed them: cleaned as
/// for a baseline, unqualified, whitespace-normalized outside literals, one line each.
pub fn normalize_for_compare(dump: &str) -> Vec<String> {
    split(dump)
        .into_iter()
        .filter_map(|p| match p {
            Piece::Statement(s) if !is_session_setting(&s) => {
                Some(one_line(&unqualified(&s), false))
            }
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests;
