//! A small SQL lexer, just enough to split a pg_dump script (or a migration) into top-level
//! statements without being fooled by what strings, quoted identifiers, dollar-quoted bodies
//! and comments contain: `;`, `SET`, `--`, `\` and `public.` all occur inside them.

/// What a piece of SQL text is, as far as splitting and cleaning need to know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    /// A run of whitespace.
    Space,
    /// `-- ...` up to (not including) the end of the line.
    LineComment,
    /// `/* ... */`, nested ones included.
    BlockComment,
    /// `'...'` with `''` escapes, or `E'...'` with backslash escapes too.
    Str,
    /// `"..."` with `""` escapes.
    QuotedIdent,
    /// `$tag$ ... $tag$` (a function body, usually).
    Dollar,
    /// A keyword, an unquoted identifier or a number.
    Word,
    /// Any other single character.
    Punct,
    /// A psql meta-command line (`\restrict KEY`, `\connect db`), only at a statement's start.
    Meta,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token<'a> {
    pub kind: TokenKind,
    pub text: &'a str,
}

impl Token<'_> {
    /// Neither whitespace nor a comment.
    pub fn is_significant(&self) -> bool {
        !matches!(
            self.kind,
            TokenKind::Space | TokenKind::LineComment | TokenKind::BlockComment
        )
    }

    /// An unquoted word equal to `word`, ignoring case (SQL folds unquoted keywords).
    pub fn is_word(&self, word: &str) -> bool {
        self.kind == TokenKind::Word && self.text.eq_ignore_ascii_case(word)
    }

    pub fn is_punct(&self, c: char) -> bool {
        self.kind == TokenKind::Punct && self.text.len() == 1 && self.text.starts_with(c)
    }
}

/// Bytes that continue an unquoted identifier; non-ASCII bytes count, as PostgreSQL's do.
fn word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'$' || b >= 0x80
}

fn word_start(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80
}

/// The end of the token starting at `at` and its kind. `statement_start`: nothing but
/// whitespace and comments precede it in the current statement (where psql reads `\` lines).
fn next(sql: &str, at: usize, statement_start: bool) -> (TokenKind, usize) {
    let b = sql.as_bytes();
    let len = b.len();
    let c = b[at];
    let find_from = |from: usize, needle: &str| sql[from..].find(needle).map(|i| from + i);
    match c {
        _ if c.is_ascii_whitespace() => {
            let end = (at..len)
                .find(|&i| !b[i].is_ascii_whitespace())
                .unwrap_or(len);
            (TokenKind::Space, end)
        }
        b'-' if b.get(at + 1) == Some(&b'-') => {
            (TokenKind::LineComment, find_from(at, "\n").unwrap_or(len))
        }
        b'/' if b.get(at + 1) == Some(&b'*') => (TokenKind::BlockComment, block_comment_end(b, at)),
        b'\'' => (TokenKind::Str, quoted_end(b, at + 1, b'\'', false)),
        b'"' => (TokenKind::QuotedIdent, quoted_end(b, at + 1, b'"', false)),
        b'\\' if statement_start => (TokenKind::Meta, find_from(at, "\n").unwrap_or(len)),
        b'$' => match dollar_tag(b, at) {
            Some(tag_end) => {
                let tag = &sql[at..tag_end];
                let end = find_from(tag_end, tag).map_or(len, |i| i + tag.len());
                (TokenKind::Dollar, end)
            }
            None => (TokenKind::Punct, at + 1),
        },
        _ if word_start(c) => {
            let end = (at..len).find(|&i| !word_byte(b[i])).unwrap_or(len);
            // E'...' (escape string): backslashes escape, so `\'` does not end it.
            if end == at + 1 && (c == b'E' || c == b'e') && b.get(end) == Some(&b'\'') {
                return (TokenKind::Str, quoted_end(b, end + 1, b'\'', true));
            }
            (TokenKind::Word, end)
        }
        _ => {
            // One character (a multi-byte one whole, so slices stay on char boundaries).
            let width = sql[at..].chars().next().map_or(1, char::len_utf8);
            (TokenKind::Punct, at + width)
        }
    }
}

/// After the opening quote at `from - 1`: the index just past the closing one (a doubled
/// quote is an escaped one); the end of the text if unterminated.
fn quoted_end(b: &[u8], from: usize, quote: u8, backslash_escapes: bool) -> usize {
    let mut i = from;
    while i < b.len() {
        if backslash_escapes && b[i] == b'\\' {
            i += 2;
            continue;
        }
        if b[i] == quote {
            if b.get(i + 1) == Some(&quote) {
                i += 2;
                continue;
            }
            return i + 1;
        }
        i += 1;
    }
    b.len()
}

/// `/* ... */` nests in PostgreSQL.
fn block_comment_end(b: &[u8], at: usize) -> usize {
    let (mut depth, mut i) = (0usize, at);
    while i + 1 < b.len() {
        match (b[i], b[i + 1]) {
            (b'/', b'*') => {
                depth += 1;
                i += 2;
            }
            (b'*', b'/') => {
                depth -= 1;
                i += 2;
                if depth == 0 {
                    return i;
                }
            }
            _ => i += 1,
        }
    }
    b.len()
}

/// `$tag$` or `$$` at `at` (not `$1`): the index just past the opening delimiter.
fn dollar_tag(b: &[u8], at: usize) -> Option<usize> {
    let mut i = at + 1;
    if b.get(i).is_some_and(|c| c.is_ascii_digit()) {
        return None;
    }
    while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] >= 0x80) {
        i += 1;
    }
    (b.get(i) == Some(&b'$')).then_some(i + 1)
}

/// One top-level piece of a script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece<'a> {
    /// A statement: its tokens up to and including the `;` that ends it (if any).
    Statement(Statement<'a>),
    /// A psql meta-command line.
    Meta(&'a str),
    /// A comment between statements.
    Comment(&'a str),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement<'a> {
    pub tokens: Vec<Token<'a>>,
    /// Ended by `;` (the last statement of a file may not be).
    pub terminated: bool,
}

impl<'a> Statement<'a> {
    /// The statement as written.
    pub fn text(&self) -> String {
        self.tokens.iter().map(|t| t.text).collect()
    }

    /// Tokens that are neither whitespace nor comments.
    pub fn significant(&self) -> impl Iterator<Item = &Token<'a>> {
        self.tokens.iter().filter(|t| t.is_significant())
    }

    /// The statement begins with these words (case-insensitive, whitespace between ignored).
    pub fn starts_with_words(&self, words: &[&str]) -> bool {
        let mut tokens = self.significant();
        words
            .iter()
            .all(|w| tokens.next().is_some_and(|t| t.is_word(w)))
    }
}

/// Tracks what decides whether a `;` ends the statement: parentheses, and the
/// `BEGIN ... END` of a SQL-standard function body (the heuristic psql itself uses).
#[derive(Default)]
struct Depth {
    parens: usize,
    begins: usize,
    /// First letters of the leading words, when they are CREATE / OR / REPLACE / FUNCTION /
    /// PROCEDURE: enough to recognize `CREATE [OR REPLACE] {FUNCTION|PROCEDURE}`.
    leading: Vec<Option<char>>,
}

impl Depth {
    fn routine(&self) -> bool {
        let l = |i: usize| self.leading.get(i).copied().flatten();
        l(0) == Some('c')
            && (matches!(l(1), Some('f' | 'p'))
                || l(1) == Some('o') && l(2) == Some('r') && matches!(l(3), Some('f' | 'p')))
    }

    fn see(&mut self, t: &Token) {
        match t.kind {
            TokenKind::Punct if t.text == "(" => self.parens += 1,
            TokenKind::Punct if t.text == ")" => self.parens = self.parens.saturating_sub(1),
            TokenKind::Word => {
                let lower = t.text.to_ascii_lowercase();
                if self.leading.len() < 4 {
                    let keyword = ["create", "or", "replace", "function", "procedure"]
                        .contains(&lower.as_str());
                    self.leading
                        .push(keyword.then(|| lower.chars().next().unwrap_or(' ')));
                }
                if self.routine() && self.parens == 0 {
                    match lower.as_str() {
                        "begin" => self.begins += 1,
                        "case" if self.begins > 0 => self.begins += 1,
                        "end" => self.begins = self.begins.saturating_sub(1),
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }

    fn ends_statement(&self, t: &Token) -> bool {
        t.is_punct(';') && self.parens == 0 && self.begins == 0
    }
}

/// Splits a script into statements, meta-command lines and the comments between statements
/// (whitespace between statements is dropped).
pub fn split(sql: &str) -> Vec<Piece<'_>> {
    let mut pieces = Vec::new();
    let mut current: Vec<Token> = Vec::new();
    let mut depth = Depth::default();
    let mut at = 0;
    while at < sql.len() {
        let started = current.iter().any(Token::is_significant);
        let (kind, end) = next(sql, at, !started);
        let token = Token {
            kind,
            text: &sql[at..end],
        };
        at = end;
        if !started {
            match kind {
                TokenKind::Space => continue,
                TokenKind::LineComment | TokenKind::BlockComment => {
                    pieces.push(Piece::Comment(token.text));
                    continue;
                }
                TokenKind::Meta => {
                    pieces.push(Piece::Meta(token.text));
                    continue;
                }
                _ => {}
            }
        }
        depth.see(&token);
        let ends = depth.ends_statement(&token);
        current.push(token);
        if ends {
            pieces.push(Piece::Statement(Statement {
                tokens: std::mem::take(&mut current),
                terminated: true,
            }));
            depth = Depth::default();
        }
    }
    // An unterminated last statement: its trailing comments are not part of it.
    let keep = current
        .iter()
        .rposition(Token::is_significant)
        .map_or(0, |i| i + 1);
    let trailing = current.split_off(keep);
    if !current.is_empty() {
        pieces.push(Piece::Statement(Statement {
            tokens: current,
            terminated: false,
        }));
    }
    pieces.extend(
        trailing
            .into_iter()
            .filter(|t| t.kind != TokenKind::Space)
            .map(|t| Piece::Comment(t.text)),
    );
    pieces
}
