//! A reader for `.railway/railway.ts`, enough to check it without Node or the Railway SDK:
//! the names it imports and the arguments of each `service(...)`, `volume(...)` and
//! `project(...)` call, as values (strings, numbers, names, calls, objects, arrays).
//! Anything it cannot read is a test failure, not a skip.

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Str(String),
    Num(f64),
    /// An identifier or member path (`data`, `db.env.DATABASE_URL`).
    Name(String),
    Call(String, Vec<Value>),
    Object(Vec<(String, Value)>),
    Array(Vec<Value>),
}

impl Value {
    pub fn object(&self) -> &[(String, Value)] {
        match self {
            Value::Object(fields) => fields,
            other => panic!("expected an object, got {other:?}"),
        }
    }

    pub fn get(&self, key: &str) -> Option<&Value> {
        self.object().iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    pub fn keys(&self) -> Vec<&str> {
        self.object().iter().map(|(k, _)| k.as_str()).collect()
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Str(String),
    Num(f64),
    Name(String),
    Punct(char),
}

fn tokens(source: &str) -> Vec<Tok> {
    let chars: Vec<char> = source.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c.is_whitespace() {
            i += 1;
        } else if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let end = (i + 2..chars.len().saturating_sub(1))
                .find(|&j| chars[j] == '*' && chars[j + 1] == '/')
                .expect("unterminated /* comment");
            i = end + 2;
        } else if c == '"' || c == '\'' || c == '`' {
            let mut text = String::new();
            i += 1;
            while chars[i] != c {
                assert!(
                    !(c == '`' && chars[i] == '$' && chars.get(i + 1) == Some(&'{')),
                    "template interpolation is not read"
                );
                if chars[i] == '\\' {
                    i += 1;
                }
                text.push(chars[i]);
                i += 1;
            }
            i += 1;
            out.push(Tok::Str(text));
        } else if c.is_ascii_digit() {
            let start = i;
            while i < chars.len()
                && (chars[i].is_ascii_digit() || chars[i] == '.' || chars[i] == '_')
            {
                i += 1;
            }
            let text: String = chars[start..i].iter().filter(|c| **c != '_').collect();
            out.push(Tok::Num(text.parse().expect("a number")));
        } else if c.is_alphabetic() || c == '_' || c == '$' {
            let start = i;
            while i < chars.len()
                && (chars[i].is_alphanumeric() || matches!(chars[i], '_' | '$' | '.'))
            {
                i += 1;
            }
            out.push(Tok::Name(chars[start..i].iter().collect()));
        } else {
            out.push(Tok::Punct(c));
            i += 1;
        }
    }
    out
}

struct Parser<'a> {
    toks: &'a [Tok],
    pos: usize,
}

impl Parser<'_> {
    fn next(&mut self) -> Tok {
        let t = self
            .toks
            .get(self.pos)
            .cloned()
            .expect("unexpected end of file");
        self.pos += 1;
        t
    }

    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }

    fn expect(&mut self, c: char) {
        let t = self.next();
        assert_eq!(t, Tok::Punct(c), "expected `{c}` at token {}", self.pos);
    }

    /// Values separated by commas (a trailing comma allowed) up to `close`.
    fn list(&mut self, close: char) -> Vec<Value> {
        let mut items = Vec::new();
        while self.peek() != Some(&Tok::Punct(close)) {
            items.push(self.value());
            if self.peek() == Some(&Tok::Punct(',')) {
                self.pos += 1;
            }
        }
        self.pos += 1;
        items
    }

    fn value(&mut self) -> Value {
        match self.next() {
            Tok::Str(s) => Value::Str(s),
            Tok::Num(n) => Value::Num(n),
            Tok::Name(name) if self.peek() == Some(&Tok::Punct('(')) => {
                self.pos += 1;
                Value::Call(name, self.list(')'))
            }
            Tok::Name(name) => Value::Name(name),
            Tok::Punct('[') => Value::Array(self.list(']')),
            Tok::Punct('{') => {
                let mut fields = Vec::new();
                while self.peek() != Some(&Tok::Punct('}')) {
                    let key = match self.next() {
                        Tok::Name(k) | Tok::Str(k) => k,
                        other => panic!("object key expected, got {other:?}"),
                    };
                    self.expect(':');
                    fields.push((key, self.value()));
                    if self.peek() == Some(&Tok::Punct(',')) {
                        self.pos += 1;
                    }
                }
                self.pos += 1;
                Value::Object(fields)
            }
            other => panic!("a value expected, got {other:?} (token {})", self.pos),
        }
    }
}

/// What railway.ts says: its imports from each module, and every call of the given names.
pub struct RailwayTs {
    pub imports: Vec<(String, Vec<String>)>,
    pub calls: Vec<(String, Vec<Value>)>,
}

pub fn read(source: &str, call_names: &[&str]) -> RailwayTs {
    let toks = tokens(source);
    let mut p = Parser {
        toks: &toks,
        pos: 0,
    };
    let mut imports = Vec::new();
    let mut calls = Vec::new();
    while let Some(tok) = p.peek().cloned() {
        p.pos += 1;
        match tok {
            Tok::Name(n) if n == "import" => {
                p.expect('{');
                let mut names = Vec::new();
                while let Tok::Name(name) = p.next() {
                    names.push(name);
                    if p.peek() == Some(&Tok::Punct(',')) {
                        p.pos += 1;
                    }
                }
                assert_eq!(p.next(), Tok::Name("from".into()), "import … from");
                let Tok::Str(module) = p.next() else {
                    panic!("import from a string")
                };
                imports.push((module, names));
            }
            Tok::Name(n)
                if call_names.contains(&n.as_str()) && p.peek() == Some(&Tok::Punct('(')) =>
            {
                p.pos += 1;
                calls.push((n, p.list(')')));
            }
            _ => {}
        }
    }
    RailwayTs { imports, calls }
}

impl RailwayTs {
    /// The arguments of the only call of `name`.
    pub fn only(&self, name: &str) -> &[Value] {
        let found: Vec<_> = self.calls.iter().filter(|(n, _)| n == name).collect();
        assert_eq!(found.len(), 1, "exactly one `{name}(...)` call: {found:?}");
        &found[0].1
    }
}

#[test]
fn reads_calls_objects_and_comments() {
    let src = r#"
        import { a, service } from "railway/iac"; // comment "with quotes"
        /* block { */
        const x = service("web", { start: 'go run', n: 300, m: { "/p": v }, e: [preserve(), d.env.URL], });
    "#;
    let ts = read(src, &["service"]);
    assert_eq!(
        ts.imports,
        [("railway/iac".into(), vec!["a".into(), "service".into()])]
    );
    let args = ts.only("service");
    assert_eq!(args[0], Value::Str("web".into()));
    assert_eq!(args[1].keys(), ["start", "n", "m", "e"]);
    assert_eq!(args[1].get("n"), Some(&Value::Num(300.0)));
    assert_eq!(
        args[1].get("m").unwrap().get("/p"),
        Some(&Value::Name("v".into()))
    );
    assert_eq!(
        args[1].get("e"),
        Some(&Value::Array(vec![
            Value::Call("preserve".into(), vec![]),
            Value::Name("d.env.URL".into())
        ]))
    );
}
